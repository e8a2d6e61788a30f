// The console's entry: sign-in, the sections, the pending-approval badge.
// A new page is one more module in views/ and one more line in ROUTES (and a link in the nav).

import * as api from "./api.js";
import { createRouter } from "./router.js";
import * as captures from "./views/captures.js";
import * as categories from "./views/categories.js";
import * as dashboard from "./views/dashboard.js";
import * as duplicates from "./views/duplicates.js";
import * as exporting from "./views/export.js";
import * as person from "./views/person.js";
import * as product from "./views/product.js";
import { renderAdminsOnly, renderSignIn } from "./views/signin.js";
import * as staff from "./views/staff.js";

const ROUTES = [
  { path: "/staff", section: "staff", title: "Staff", view: staff },
  { path: "/people/:id", section: "staff", title: "Person", view: person },
  { path: "/captures", section: "captures", title: "Captures", view: captures },
  { path: "/products/:id", section: "captures", title: "Product", view: product },
  { path: "/dashboard", section: "dashboard", title: "Dashboard", view: dashboard },
  { path: "/duplicates", section: "duplicates", title: "Duplicates", view: duplicates },
  { path: "/categories", section: "categories", title: "Categories", view: categories },
  { path: "/export", section: "export", title: "Export", view: exporting },
];

const main = document.getElementById("main");
const bar = document.getElementById("bar");
const badge = document.getElementById("pending-badge");
const who = document.getElementById("who");
let badgeTimer = null;

const router = createRouter({
  routes: ROUTES,
  fallback: "/captures",
  container: main,
  context: { refreshBadge, navigate: (path) => router.navigate(path) },
  onRoute(route) {
    document.title = `${route.title} · Admin console`;
    for (const link of bar.querySelectorAll("nav a")) {
      if (link.dataset.section === route.section) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    refreshBadge();
    // Land on the new page's heading, as a page load would.
    queueMicrotask(() => main.querySelector("h1")?.focus());
  },
});

/** Show how many people wait for approval, beside "Staff", on every page. */
async function refreshBadge() {
  clearTimeout(badgeTimer);
  try {
    const answer = await api.get("/users.counts");
    const count = answer.data.pending;
    badge.hidden = count === 0;
    badge.querySelector(".count").textContent = String(count);
  } catch {
    // The badge is a hint; a failure shows wherever the admin is working.
  }
  // Others sign up meanwhile: look again now and then while the tab is open.
  if (api.currentUser()) badgeTimer = setTimeout(refreshBadge, 60_000);
}

function start(user) {
  if (user.role !== "admin") {
    refuse(user);
    return;
  }
  who.textContent = user.name || user.email;
  bar.hidden = false;
  router.start();
}

function stop() {
  clearTimeout(badgeTimer);
  router.stop();
  bar.hidden = true;
  who.textContent = "";
  document.title = "Admin console";
}

function signIn(notice = "") {
  stop();
  renderSignIn(main, { notice, onSignedIn: start });
}

function refuse(user) {
  stop();
  // A staff member's session is of no use here: end it at once.
  api.signOut();
  renderAdminsOnly(main, { user, onAgain: () => signIn() });
}

document.getElementById("sign-out").addEventListener("click", async () => {
  stop();
  await api.signOut();
  signIn("You are signed out.");
});

api.onSignedOut((message) => signIn(message));
api.onAdminOnly((user) => refuse(user));
signIn();

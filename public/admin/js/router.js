// A small hash router: "#/products/7?tab=photos" picks the view registered for
// "/products/:id" and renders it into the main element. A view is a module exporting
// `render(main, ctx)`; adding a page is adding a route, nothing else changes.

export function createRouter({ routes, fallback, container, context, onRoute }) {
  const compiled = routes.map((route) => ({
    ...route,
    pattern: new RegExp(`^${route.path.replace(/:(\w+)/g, "(?<$1>[^/]+)")}$`),
  }));
  let current = null; // {controller, cleanups}

  function parse() {
    const hash = window.location.hash.replace(/^#/, "") || fallback;
    const [path, search = ""] = hash.split("?");
    return { path, query: new URLSearchParams(search) };
  }

  function match(path) {
    for (const route of compiled) {
      const found = route.pattern.exec(path);
      if (found) return { route, params: { ...found.groups } };
    }
    return null;
  }

  function leave() {
    if (!current) return;
    current.controller.abort();
    for (const cleanup of current.cleanups) cleanup();
    current = null;
  }

  function render() {
    const { path, query } = parse();
    const found = match(path);
    if (!found) {
      navigate(fallback, { replace: true });
      return;
    }
    leave();
    const controller = new AbortController();
    const cleanups = [];
    current = { controller, cleanups };
    container.replaceChildren();
    onRoute(found.route);
    found.route.view.render(container, {
      ...context,
      params: found.params,
      query,
      // Aborted when the admin leaves the view: late answers are then ignored.
      signal: controller.signal,
      onLeave: (fn) => cleanups.push(fn),
      // Record the view's own state (filters) in the address without rendering again.
      setQuery: (values) => {
        const params = new URLSearchParams();
        for (const [key, value] of Object.entries(values)) if (value) params.set(key, value);
        const text = params.toString();
        window.history.replaceState(null, "", `#${path}${text ? `?${text}` : ""}`);
      },
    });
  }

  function navigate(path, { replace = false } = {}) {
    if (replace) {
      window.history.replaceState(null, "", `#${path}`);
      render();
    } else if (window.location.hash === `#${path}`) {
      render();
    } else {
      window.location.hash = path;
    }
  }

  return {
    start() {
      window.addEventListener("hashchange", render);
      render();
    },
    stop() {
      window.removeEventListener("hashchange", render);
      leave();
    },
    navigate,
  };
}

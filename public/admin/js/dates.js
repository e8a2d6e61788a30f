// Days as the API counts them: UTC. A date input's "to" is the last day included; the API's
// `to` is exclusive, so it gets the next day.

/** The day after an ISO date ("2026-11-30" -> "2026-12-01"). */
export function nextDay(iso) {
  const day = new Date(`${iso}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() + 1);
  return day.toISOString().slice(0, 10);
}

/** The API's `from` and `to` for a range of days picked in date inputs (either may be ""). */
export function range(from, until) {
  return { from: from || null, to: until ? nextDay(until) : null };
}

const dayFormat = new Intl.DateTimeFormat(undefined, {
  day: "numeric",
  month: "short",
  timeZone: "UTC",
});
const longDayFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "short",
  day: "numeric",
  month: "short",
  year: "numeric",
  timeZone: "UTC",
});

/** A short label for a day: "3 Nov" or "Nov 3", as the reader's language has it. */
export function shortDay(iso) {
  return dayFormat.format(new Date(`${iso}T00:00:00Z`));
}

/** A full label for a day: "Tue, Nov 3, 2026". */
export function longDay(iso) {
  return longDayFormat.format(new Date(`${iso}T00:00:00Z`));
}

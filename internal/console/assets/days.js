// Days as the console's date inputs give them (YYYY-MM-DD), meaning whole days in the person's
// time zone, and the instants an API filter takes for their start and end.

export function isoDay(d) {
  const z = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${z(d.getMonth() + 1)}-${z(d.getDate())}`;
}

export function startOf(day) { return new Date(day + "T00:00:00").toISOString(); }
export function endOf(day) { return new Date(day + "T23:59:59.999").toISOString(); }

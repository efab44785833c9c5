/** Strings in byte (UTF-16 code unit) order: the locale-independent order kproxy sorts by. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

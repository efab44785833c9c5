/** commander's reducer for an option that may be given several times (`-f A -f B`): every value, in order. */
export function collectRepeated(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

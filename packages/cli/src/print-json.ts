/**
 * Prints a command's result as JSON (`--json`), indented for people reading it and one value per run for
 * the scripts that parse it.
 */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

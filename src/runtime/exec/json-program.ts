/**
 * The main of a small child program driven by JSON (the traffic clients): its one argument is
 * the job as JSON; it prints the result as one JSON line, or the error on stderr and exits 1
 * (2 without an argument).
 */
export function runJsonProgram(name: string, argName: string, run: (job: unknown) => Promise<unknown>): void {
  const arg = process.argv[2];
  if (arg === undefined) {
    process.stderr.write(`usage: ${name}.js ${argName}\n`);
    process.exit(2);
  }
  run(JSON.parse(arg))
    .then((result) => process.stdout.write(`${JSON.stringify(result)}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}

// STUB: the demo lands once both simulators are merged.
export async function runDemo(_o: { port?: string | undefined }): Promise<number> {
  process.stderr.write('demo: not yet available\n');
  return 1;
}

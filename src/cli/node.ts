/** `arca node`: not written yet. */
export async function run(_args: string[]): Promise<number> {
  process.stderr.write('arca node: not implemented yet\n');
  return 2;
}

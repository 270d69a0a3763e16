/** `arca proxy`: not written yet. */
export async function run(_args: string[]): Promise<number> {
  process.stderr.write('arca proxy: not implemented yet\n');
  return 2;
}

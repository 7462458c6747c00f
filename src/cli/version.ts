import { VERSION } from '../version.ts';

/** `sluice version`: the version alone on one line, for scripts. */
export function runVersion(out: (line: string) => void): number {
  out(VERSION);
  return 0;
}

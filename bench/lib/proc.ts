/**
 * /proc readings for the benchmarks: RSS, CPU time (all threads), children of a process.
 *
 * @example
 *   const pids = [primary, ...nodeChildrenOf(primary)];
 *   const before = sum(pids, cpuNs); … ; const cpuMs = (sum(pids, cpuNs) - before) / 1e6;
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';


export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

/** CPU time of every thread of `pid` in ns (schedstat), else utime+stime from stat (10 ms ticks). */
export function cpuNs(pid: number): number {
  try {
    let total = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    }
    if (Number.isFinite(total) && total > 0) return total;
  } catch {
    // no schedstat: fall through
  }
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 1e7; // utime, stime: fields 14 and 15, USER_HZ = 100
}

/** utime and stime of `pid` in clock ticks (for the kernel's share of the CPU time). */
export function userSysTicks(pid: number): { user: number; sys: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return { user: Number(fields[11]), sys: Number(fields[12]) };
}

/** Summed over several processes (a Sluice primary and its workers). */
export const sum = (pids: readonly number[], f: (pid: number) => number): number => pids.reduce((total, pid) => total + f(pid), 0);
export const sumTicks = (pids: readonly number[]) => ({ user: sum(pids, (p) => userSysTicks(p).user), sys: sum(pids, (p) => userSysTicks(p).sys) });

/** Node children of `pid` (the cluster workers; not tsx's esbuild helper). */
export function nodeChildrenOf(pid: number): number[] {
  return childrenOf(pid).filter((child) => {
    try {
      return readFileSync(`/proc/${child}/cmdline`, 'utf8').startsWith(process.execPath);
    } catch {
      return false;
    }
  });
}

export function childrenOf(pid: number): number[] {
  const path = `/proc/${pid}/task/${pid}/children`;
  if (existsSync(path)) return readFileSync(path, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1] === String(pid);
      } catch {
        return false;
      }
    })
    .map(Number);
}

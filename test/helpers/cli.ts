import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `sluice <args>` to completion; `input` is written to its stdin, which is then closed. */
export function runCli(args: string[], env: Record<string, string> = {}, input: string | Buffer = ''): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    child.stdin.on('error', () => {}); // a command that never reads stdin may exit first
    child.stdin.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface LogLine {
  readonly event?: string;
  readonly msg?: string;
  readonly listeners?: { proxy: string[]; admin: string[]; internal: string[] };
  readonly [key: string]: unknown;
}

/** A running `sluice start` whose JSON log lines can be awaited. */
export class RunningCli {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  stderr = '';
  private waiters: { test: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [BIN, 'start', ...args], { env: { ...process.env, ...env } });
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        return;
      }
      this.lines.push(line);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.test(line)) return true;
        waiter.resolve(line);
        return false;
      });
    });
  }

  /** Resolves with the first log line (past or future) with this `event`. */
  waitFor(event: string): Promise<LogLine> {
    const seen = this.lines.find((line) => line.event === event);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.waiters.push({ test: (line) => line.event === event, resolve });
      void this.exited.then((code) => reject(new Error(`sluice exited (${code}) before "${event}": ${this.stderr}`)));
    });
  }

  /** Resolves with the next `count` lines with this `event` logged after this call. */
  collect(event: string, count: number): Promise<LogLine[]> {
    const seen: LogLine[] = [];
    return new Promise((resolve, reject) => {
      this.waiters.push({
        test: (line) => line.event === event && seen.push(line) === count,
        resolve: () => resolve(seen),
      });
      void this.exited.then((code) => reject(new Error(`sluice exited (${code}) after ${seen.length} of ${count} "${event}" lines: ${this.stderr}`)));
    });
  }

  /** Like waitFor, but only for lines logged after this call (and, with `where`, that pass it). */
  next(event: string, where: (line: LogLine) => boolean = () => true): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ test: (line) => line.event === event && where(line), resolve });
      void this.exited.then((code) => reject(new Error(`sluice exited (${code}) before "${event}": ${this.stderr}`)));
    });
  }
}

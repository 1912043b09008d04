// /proc readings of the server process: resident memory (current and peak), CPU time, I/O.
import { readFileSync, writeFileSync } from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat (USER_HZ is 100 on Linux). */
const CLOCK_TICKS = 100;

export interface MemoryReading {
  /** VmRSS, kB. */
  rssKb: number;
  /** VmHWM: peak resident set since start or since the last resetPeak(), kB. */
  peakKb: number;
  /** RssAnon (heaps, stacks) and RssFile (mapped code: the node binary, native modules), kB. */
  anonKb: number;
  fileKb: number;
}

export function memory(pid: number): MemoryReading {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKb: field('VmRSS'), peakKb: field('VmHWM'), anonKb: field('RssAnon'), fileKb: field('RssFile') };
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0, `echo 5 > /proc/<pid>/clear_refs`); false if refused. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** User + system CPU time of the process, ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ", field 3 (state) is index 0: utime is field 14 → index 11, stime 15 → 12.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

export interface IoReading {
  syscr: number;
  syscw: number;
  writeBytes: number;
}

/** Read/write system calls and bytes written to storage (null when /proc/<pid>/io is unreadable). */
export function io(pid: number): IoReading | null {
  try {
    const text = readFileSync(`/proc/${pid}/io`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
    return { syscr: field('syscr'), syscw: field('syscw'), writeBytes: field('write_bytes') };
  } catch {
    return null;
  }
}

/** Machine-wide CPU jiffies (all CPUs): busy and total, from the first line of /proc/stat. */
export function systemCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

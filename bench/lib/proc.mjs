// Linux /proc readings: a process's CPU time, its peak RSS, the machine's total busy time.
// Everything is in clock ticks (USER_HZ, 100 on Linux) unless said otherwise.
import { readdirSync, readFileSync } from 'node:fs'

export const TICK_US = 1e6 / 100 // USER_HZ is 100 on every mainstream Linux build

/** Fields of /proc/<pid>/stat after the `(comm)` field, which may itself contain spaces. */
function statFields(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return text.slice(text.lastIndexOf(')') + 2).split(' ')
}

/** utime + stime of one process, in ticks (0 when it is gone). */
export function cpuTicks(pid) {
  try {
    const f = statFields(pid)
    // After "(comm) ": state(0) ppid(1) ... utime(11) stime(12)
    return Number(f[11]) + Number(f[12])
  } catch {
    return 0
  }
}

/** The processes whose parent is `pid` (PostgreSQL backends under the postmaster). */
export function childPids(pid) {
  const out = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (Number(statFields(name)[1]) === pid) out.push(Number(name))
    } catch {
      // exited meanwhile
    }
  }
  return out
}

/**
 * CPU ticks of a set of processes. Processes that exit between two readings lose their ticks,
 * which only makes the "other load" estimate larger (never hides a busy machine).
 */
export function cpuOf(pids) {
  const out = new Map()
  for (const pid of pids) out.set(pid, cpuTicks(pid))
  return out
}

/** Sum of per-pid differences between two cpuOf() readings (pids absent before count from 0). */
export function cpuDelta(before, after) {
  let sum = 0
  for (const [pid, ticks] of after) sum += ticks - (before.get(pid) ?? 0)
  return sum
}

/** Machine-wide busy and total ticks from the first line of /proc/stat (all cores summed). */
export function machineTicks() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]
  const [, ...values] = line.trim().split(/\s+/)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = values.map(Number)
  const busy = user + nice + system + irq + softirq + steal
  return { busy, total: busy + idle + iowait }
}

/** Peak resident set size of a process, in bytes (VmHWM), or undefined when it is gone. */
export function peakRss(pid) {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

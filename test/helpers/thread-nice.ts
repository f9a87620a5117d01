// The nice value of each thread of a process, from /proc (Linux): what --worker-nice changed.
import { readdirSync, readFileSync } from 'node:fs'

/** By thread id: field 19 of /proc/<pid>/task/<tid>/stat ('self': this process). */
export function threadNices (pid: number | 'self'): Map<number, number> {
  return new Map(readdirSync(`/proc/${pid}/task`).map(tid => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
    // The command name, in parentheses, may hold spaces: count the fields after it.
    return [Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])]
  }))
}

/**
 * The machine a benchmark ran on, for the results files: figures from two
 * machines (or from one VM on two days) are only comparable with this next to them.
 */
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';

export interface MachineDescription {
  /** CPU model as the kernel names it (`/proc/cpuinfo`), e.g. "AMD EPYC". */
  cpu: string;
  /** Logical CPUs the process may run on. */
  cores: number;
  memoryGiB: number;
  /** `uname -r`. */
  kernel: string;
  /** PRETTY_NAME of /etc/os-release, when there is one. */
  os: string;
  node: string;
  v8: string;
}

function osName(): string {
  try {
    const line = readFileSync('/etc/os-release', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('PRETTY_NAME='));
    return line ? line.slice('PRETTY_NAME='.length).replace(/^"|"$/g, '') : 'unknown';
  } catch {
    return 'unknown';
  }
}

export function describeMachine(): MachineDescription {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    os: osName(),
    node: process.version,
    v8: process.versions.v8,
  };
}

/** One line for a terminal header: "AMD EPYC, 2 cores, 23.5 GiB, Linux 6.18.44, Node v20.20.2". */
export function machineLine(machine: MachineDescription): string {
  return `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}`;
}

package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Memory is a process's resident set, from /proc/<pid>/status: Peak is VmHWM (the high-water mark
// over the process's life), Current is VmRSS.
type Memory struct {
	Peak, Current int64 // bytes
}

// PeakMB is the high-water mark in MiB.
func (m Memory) PeakMB() float64 { return float64(m.Peak) / (1 << 20) }

// CurrentMB is the resident set now, in MiB.
func (m Memory) CurrentMB() float64 { return float64(m.Current) / (1 << 20) }

// SelfMemory reads this process's memory.
func SelfMemory() (Memory, error) { return readMemory("/proc/self/status") }

// ProcessMemory reads another process's memory.
func ProcessMemory(pid int) (Memory, error) { return readMemory(fmt.Sprintf("/proc/%d/status", pid)) }

func readMemory(path string) (Memory, error) {
	f, err := os.Open(path)
	if err != nil {
		return Memory{}, fmt.Errorf("read memory: %w", err)
	}
	defer f.Close()
	var m Memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest) // "123456 kB"
		if len(fields) == 0 {
			continue
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmHWM":
			m.Peak = kb << 10
		case "VmRSS":
			m.Current = kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		return Memory{}, fmt.Errorf("read %s: %w", path, err)
	}
	if m.Peak == 0 {
		return Memory{}, fmt.Errorf("read %s: no VmHWM", path)
	}
	return m, nil
}

// SelfCPU is the CPU time (user and system) this process has used so far.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times; 100 on every Linux architecture Go
// supports.
const clockTicks = 100

// ProcessCPU is the CPU time (user and system, all threads) another process has used so far, from
// /proc/<pid>/stat, at 10 ms resolution.
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu time: %w", err)
	}
	// The command name (field 2) is in parentheses and may hold spaces: count fields after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("read cpu time of %d: malformed stat", pid)
	}
	fields := strings.Fields(string(b[i+1:]))
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return 0, fmt.Errorf("read cpu time of %d: short stat", pid)
	}
	ut, err1 := strconv.ParseInt(fields[11], 10, 64)
	st, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("read cpu time of %d: malformed stat", pid)
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// MachineCPU is the CPU time all processes of the machine have used so far (every CPU's busy time
// since boot, from /proc/stat): what a run used itself subtracted from its growth is what other
// processes took from it.
func MachineCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		busy += v
	}
	return time.Duration(busy) * time.Second / clockTicks
}

// ChildrenCPU is the CPU time of this process's children that have been waited for.
func ChildrenCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

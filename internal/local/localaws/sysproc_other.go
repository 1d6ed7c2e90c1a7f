//go:build unix && !linux

package localaws

import "syscall"

// sysProcAttr puts a child in its own process group. Only Linux has a parent-death signal, so here a
// killed parent can leave the emulators running.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

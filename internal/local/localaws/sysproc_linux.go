package localaws

import "syscall"

// sysProcAttr puts a child in its own process group (so Close can signal all of it and a terminal's
// Ctrl-C reaches only us) and has the kernel kill it if we die without closing.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

package servers

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// startTimeout bounds how long a server may take to answer after it was
// started: generous, because the test machines are small and busy.
const startTimeout = 30 * time.Second

// process is one run of a server binary, its output going to a log file.
type process struct {
	cmd  *exec.Cmd
	log  string        // path of the file holding stdout and stderr
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, valid once done is closed
}

// startProcess runs bin with args, writing its output to logPath.
func startProcess(bin string, args []string, dir, logPath string) (*process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill ends the process with SIGKILL, by PID, and waits for it.
func (p *process) kill() {
	if p == nil || p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// signal sends sig to the process, by PID.
func (p *process) signal(sig syscall.Signal) error {
	if p.exited() {
		return errors.New("servers: process has exited")
	}
	return p.cmd.Process.Signal(sig)
}

// logTail returns the end of the process's output, for failure messages.
func (p *process) logTail() string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	const max = 4 << 10
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(bytes.TrimSpace(b))
}

// waitReady polls ready until it succeeds, the process exits, or
// startTimeout passes.
func (p *process) waitReady(ready func() error) error {
	deadline := time.Now().Add(startTimeout)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("exited (%v) before answering; output:\n%s", p.err, p.logTail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not answering after %v: %v; output:\n%s", startTimeout, err, p.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePort returns a loopback TCP port that was free a moment ago. Another
// process may take it before the server binds it; callers retry on a new
// port when the server fails to start.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// hostPort is "127.0.0.1:port".
func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

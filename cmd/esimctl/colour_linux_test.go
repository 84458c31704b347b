package main

import (
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// openPTY opens a pseudo-terminal pair with only the standard library, so
// that the test writes to a real terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var unlock int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); errno != 0 {
		t.Fatalf("unlock the pty: %v", errno)
	}
	var n uint32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); errno != 0 {
		t.Fatalf("pty number: %v", errno)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return master, slave
}

// onTerminal runs esimctl with stdout on a terminal and returns what the
// terminal received.
func onTerminal(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	master, slave := openPTY(t)
	defer master.Close()
	got := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(master) // ends with EIO once the slave is closed
		got <- string(b)
	}()
	var stderr syncBuffer
	err := run(t.Context(), args, func(k string) string { return env[k] }, slave, &stderr)
	slave.Close()
	if err != nil {
		t.Fatalf("esimctl %v: %v\n%s", args, err, stderr.String())
	}
	return <-got
}

func TestColourOnTerminals(t *testing.T) {
	c := newCLI(t)
	out := onTerminal(t, c.env, "catalogue", "list")
	if !strings.Contains(out, sgrBold+"NAME") || !strings.Contains(out, "esim_1GB_7D_GB_V2") {
		t.Errorf("on a terminal the header is bold:\n%q", out)
	}
	c.ok("order", "buy", "esim_1GB_7D_GB_V2")
	if out := onTerminal(t, c.env, "esims", "list"); !strings.Contains(out, sgrGreen+"active"+sgrReset) {
		t.Errorf("on a terminal an active eSIM is green:\n%q", out)
	}
	// The columns stay aligned: the escapes add no width.
	lines := strings.Split(strings.ReplaceAll(onTerminal(t, c.env, "esims", "list"), "\r\n", "\n"), "\n")
	strip := strings.NewReplacer(sgrBold, "", sgrGreen, "", sgrReset, "", sgrRed, "", sgrYellow, "")
	if h, r := strip.Replace(lines[0]), strip.Replace(lines[1]); strings.Index(h, "CUSTOMER REF") != strings.Index(r, "-") {
		t.Errorf("columns out of line:\n%s\n%s", h, r)
	}

	noColour := map[string]string{"NO_COLOR": "1"}
	for k, v := range c.env {
		noColour[k] = v
	}
	if out := onTerminal(t, noColour, "catalogue", "list"); strings.Contains(out, "\x1b[") {
		t.Errorf("NO_COLOR set, yet colour:\n%q", out)
	}
	if out := c.ok("esims", "list"); strings.Contains(out, "\x1b[") {
		t.Errorf("not a terminal, yet colour:\n%q", out)
	}
}

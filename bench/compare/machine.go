package main

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/mem"
)

// machine names where the figures were measured.
type machine struct {
	cpu    string // model
	cpus   int    // logical CPUs usable
	memory string
	system string // OS/arch
	goVer  string
	pyVer  string // empty without Python
	date   string
}

func describeMachine(py *python) machine {
	m := machine{cpus: runtime.NumCPU(), system: runtime.GOOS + "/" + runtime.GOARCH,
		goVer: runtime.Version(), date: time.Now().Format("2006-01-02")}
	if info, err := cpu.Info(); err == nil && len(info) > 0 {
		m.cpu = strings.Join(strings.Fields(info[0].ModelName), " ")
	}
	if m.cpu == "" {
		m.cpu = "unknown CPU"
	}
	if vm, err := mem.VirtualMemory(); err == nil {
		m.memory = fmt.Sprintf("%.1f GiB", float64(vm.Total)/(1<<30))
	}
	if py != nil {
		m.pyVer = py.version
	}
	return m
}

// String is one line: CPU, CPUs, memory, system, Go and Python, date.
func (m machine) String() string {
	parts := []string{m.cpu, fmt.Sprintf("%d logical CPUs", m.cpus)}
	if m.memory != "" {
		parts = append(parts, m.memory)
	}
	parts = append(parts, m.system, "Go "+strings.TrimPrefix(m.goVer, "go"))
	if m.pyVer != "" {
		parts = append(parts, "Python "+m.pyVer)
	}
	return strings.Join(parts, ", ") + ", " + m.date
}

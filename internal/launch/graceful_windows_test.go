package launch_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"

	"github.com/go-mp/mp/internal/launch"
)

func init() { helpers["nobreakaway"] = inJobWithoutBreakaway }

// inJobWithoutBreakaway puts this process in a job that forbids breaking
// away, as a service manager's may, then starts a Graceful child, which
// must start all the same (in that job), and run.
func inJobWithoutBreakaway() {
	job, err := windows.CreateJobObject(nil, nil)
	if err == nil {
		info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{}
		info.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
		_, err = windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
			uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)))
	}
	if err == nil {
		err = windows.AssignProcessToJobObject(job, windows.CurrentProcess())
	}
	if err != nil {
		fmt.Println("job:", err)
		return
	}
	c, err := startSpec(7, true)
	if err != nil {
		fmt.Println("start:", err)
		return
	}
	_, _ = c.Boot.Write([]byte("hello"))
	got, _ := io.ReadAll(c.Report)
	ps, _ := c.Wait()
	fmt.Printf("%s %d\n", got, launch.ExitCode(ps))
}

// TestGracefulWithoutBreakaway: a Graceful child whose parent is in a job
// that forbids breaking away starts in that job.
func TestGracefulWithoutBreakaway(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), helperEnv+"=nobreakaway")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, "hello 7\n", string(out))
}

// TestGraceful: a Graceful child starts, here in no job that forbids it to
// break away, and runs.
func TestGraceful(t *testing.T) {
	t.Parallel()
	c, err := startSpec(7, true)
	require.NoError(t, err)
	_, err = c.Boot.Write([]byte("hello"))
	require.NoError(t, err)
	got, err := io.ReadAll(c.Report)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(got))
	ps, _ := c.Wait()
	assert.Equal(t, 7, launch.ExitCode(ps))
	c.Boot.Close()
	c.Report.Close()
}

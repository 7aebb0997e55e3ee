#pragma once
// Nothing draincheck starts may outlive it, even when draincheck is SIGKILLed. PR_SET_PDEATHSIG
// takes care of the direct child only; its children, and daemons that left its process group,
// would survive. So draincheck forks a small guard process first thing: it blocks on a pipe only
// draincheck holds open, and when that pipe closes (draincheck is gone, however it ended) it
// kills every process whose environment carries this run's marker, DRAINCHECK_RUN=<pid>, which the
// supervisor sets on every target. It also removes what the run left in the temporary directory
// (files and directories named with run_temp_prefix()), and asks Docker to remove the containers the
// run started (labelled draincheck.run=<pid>), if it noted that it started any.
#include <string>

namespace draincheck {

// The environment variable the supervisor sets on every process it starts, to draincheck's pid.
inline constexpr const char* kRunMarker = "DRAINCHECK_RUN";

// Call at the top of main(), before any thread is started. Returns in draincheck; the guard
// process never returns from it.
void start_orphan_guard();

// SIGKILLs every process carrying this process's run marker now (e.g. a daemon a target left
// behind outside its process group); returns how many there were.
int kill_marked_processes();

// "draincheck-<pid>-": the start of the name of every file or directory this run creates in the
// temporary directory ($TMPDIR or /tmp), so that the guard can remove them if draincheck is killed.
std::string run_temp_prefix();

// Notes (a file in the temporary directory) that this run started a container, so that the guard
// removes the run's containers if draincheck is killed.
void note_container_started();
inline constexpr const char* kContainersNote = "containers";

}  // namespace draincheck

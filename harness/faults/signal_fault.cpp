#include "faults/signal_fault.h"

#include "common/signals.h"

namespace draincheck {
namespace {

// Sends `signo` to the target; a stop signal starts the drain (and the grace before SIGKILL).
void send(FaultContext& ctx, int signo) {
    if (is_stop_signal(signo, ctx.target_spec)) ctx.target.read_tree_before_signal();
    // The drain starts when the signal is sent: what the target does about it can only come later.
    int64_t sent_at = ctx.now();
    bool delivered = ctx.target.send_signal(signo);
    ctx.emit(EventType::signal_sent, signal_name(signo) + (delivered ? "" : " (target already gone)"));
    if (delivered && is_stop_signal(signo, ctx.target_spec)) ctx.stop_requested(signo, sent_at);
}

class SignalFault final : public Fault {
public:
    explicit SignalFault(int signo) : signo_(signo) {}
    void apply(FaultContext& ctx) override { send(ctx, signo_); }
    std::string describe() const override { return "send " + signal_name(signo_) + " to the target"; }

private:
    int signo_;
};

// What the platform does to stop the target (`docker stop`, a Kubernetes pod deletion, `systemctl
// stop`): its stop signal -- the scenario's, else the image's STOPSIGNAL, else TERM -- then SIGKILL
// after target.kill_after. The same scenario reads the same for a process and a container.
class StopFault final : public Fault {
public:
    void apply(FaultContext& ctx) override { send(ctx, ctx.target_spec.stop_signal); }
    std::string describe() const override { return "stop the target (its stop signal, then SIGKILL after kill_after)"; }
};

}  // namespace

std::unique_ptr<Fault> make_signal_fault(const FaultSpec& spec) {
    return std::make_unique<SignalFault>(spec.signal);
}

std::unique_ptr<Fault> make_stop_fault(const FaultSpec&) { return std::make_unique<StopFault>(); }

}  // namespace draincheck

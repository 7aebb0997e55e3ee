#include "faults/signal_fault.h"

#include "common/signals.h"

namespace draincheck {
namespace {

class SignalFault final : public Fault {
public:
    explicit SignalFault(int signo) : signo_(signo) {}

    void apply(FaultContext& ctx) override {
        // The drain starts when the signal is sent: what the target does about it can only come later.
        int64_t sent_at = ctx.now();
        bool delivered = ctx.target.send_signal(signo_);
        ctx.emit(EventType::signal_sent, signal_name(signo_) + (delivered ? "" : " (target already gone)"));
        if (delivered && is_stop_signal(signo_, ctx.target_spec)) ctx.stop_requested(signo_, sent_at);
    }

    std::string describe() const override { return "send " + signal_name(signo_) + " to the target"; }

private:
    int signo_;
};

}  // namespace

std::unique_ptr<Fault> make_signal_fault(const FaultSpec& spec) {
    return std::make_unique<SignalFault>(spec.signal);
}

}  // namespace draincheck

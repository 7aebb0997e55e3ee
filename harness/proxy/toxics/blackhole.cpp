// blackhole: bytes in the toxic's direction are read and thrown away; the connection stays open.
#include "proxy/toxics/toxic.h"

namespace draincheck::toxics {
namespace {

class Blackhole final : public ToxicLink {
public:
    explicit Blackhole(const ToxicSpec& spec) : direction_(spec.direction) {}

    bool shapes(Flow flow) const override { return applies(direction_, flow); }
    void shape(Chunk& chunk) override { chunk.drop = true; }

private:
    ToxicSpec::Direction direction_;
};

}  // namespace

std::unique_ptr<ToxicLink> make_blackhole(const ToxicSpec& spec, const LinkContext&) {
    return std::make_unique<Blackhole>(spec);
}

}  // namespace draincheck::toxics

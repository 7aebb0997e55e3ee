#include "common/spill_log.h"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

using namespace draincheck;
namespace fs = std::filesystem;

namespace {

struct Item {
    uint64_t sequence;
    int32_t tag;
};

// Points $TMPDIR at a fresh directory for the test's lifetime.
class ScopedTmpdir {
public:
    explicit ScopedTmpdir(const std::string& name) : path_(fs::temp_directory_path() / name) {
        fs::remove_all(path_);
        fs::create_directories(path_);
        const char* old = std::getenv("TMPDIR");
        if (old) old_ = old;
        setenv("TMPDIR", path_.c_str(), 1);
    }
    ~ScopedTmpdir() {
        if (old_.empty()) unsetenv("TMPDIR");
        else setenv("TMPDIR", old_.c_str(), 1);
        fs::remove_all(path_);
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
    std::string old_;
};

void push_sequence(SpillLog<Item>& log, uint64_t from, uint64_t count) {
    for (uint64_t i = from; i < from + count; ++i) log.push(Item{i, int32_t(i % 7)});
}

void expect_sequence(const std::vector<Item>& items, uint64_t count) {
    ASSERT_EQ(items.size(), count);
    for (uint64_t i = 0; i < count; ++i) {
        ASSERT_EQ(items[i].sequence, i) << "at " << i;
        ASSERT_EQ(items[i].tag, int32_t(i % 7)) << "at " << i;
    }
}

}  // namespace

TEST(SpillLog, FullChunksWaitInAFileThatHasNoName) {
    ScopedTmpdir tmp("draincheck-spill-test-nameless");
    SpillLog<Item> log(100);
    push_sequence(log, 0, 1050);
    EXPECT_EQ(log.size(), 1050u);
    EXPECT_EQ(log.spilled(), 1000u);   // ten full chunks; the eleventh is being filled
    EXPECT_TRUE(fs::is_empty(tmp.path()));

    std::vector<Item> out;
    EXPECT_TRUE(log.take_into(out));
    expect_sequence(out, 1050);
    EXPECT_EQ(log.size(), 0u);
}

TEST(SpillLog, TakeIntoAppendsAndTheLogCanBeFilledAgain) {
    ScopedTmpdir tmp("draincheck-spill-test-again");
    SpillLog<Item> log(10);
    std::vector<Item> out;
    push_sequence(log, 0, 25);
    EXPECT_TRUE(log.take_into(out));
    push_sequence(log, 25, 31);
    EXPECT_EQ(log.spilled(), 30u);
    EXPECT_TRUE(log.take_into(out));
    expect_sequence(out, 56);
}

TEST(SpillLog, WithoutATemporaryDirectoryChunksStayInMemory) {
    ScopedTmpdir tmp("draincheck-spill-test-missing");
    setenv("TMPDIR", (tmp.path() / "does-not-exist").c_str(), 1);
    SpillLog<Item> log(16);
    push_sequence(log, 0, 100);
    EXPECT_EQ(log.spilled(), 0u);
    std::vector<Item> out;
    EXPECT_TRUE(log.take_into(out));
    expect_sequence(out, 100);
}

// A file size limit makes write() fail with EFBIG the way a full disk fails with ENOSPC: the chunks
// written before stay in the file, the rest stay in memory, and the order is kept.
TEST(SpillLog, AWriteThatFailsHalfWayLosesNothing) {
    ScopedTmpdir tmp("draincheck-spill-test-full");
    constexpr size_t kChunk = 64;
    constexpr rlim_t kLimit = 3 * kChunk * sizeof(Item) + 100;   // three chunks and part of a fourth
    rlimit old{};
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
    auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limited = old;
    limited.rlim_cur = kLimit;
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);

    SpillLog<Item> log(kChunk);
    push_sequence(log, 0, 10 * kChunk + 5);
    size_t spilled = log.spilled();

    setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, old_handler);
    EXPECT_EQ(spilled, 3 * kChunk);
    std::vector<Item> out;
    EXPECT_TRUE(log.take_into(out));
    expect_sequence(out, 10 * kChunk + 5);
}

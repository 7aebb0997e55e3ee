#include "load/record_store.h"

#include <gtest/gtest.h>

using namespace draincheck;

namespace {

RequestRecord started_at(uint32_t us) {
    RequestRecord r;
    r.started_us = us;
    r.intended_us = us;
    return r;
}

}  // namespace

// Several chunks per store, so most records come back from the temporary file.
TEST(RecordStore, MergeReturnsEveryRecordOfEveryStoreInStartOrder) {
    constexpr uint32_t kPerStore = 3 * RecordStore::kChunk + 123;
    RecordStore even(kPerStore), odd(kPerStore);
    for (uint32_t i = 0; i < kPerStore; ++i) {
        ASSERT_TRUE(even.append(started_at(2 * i)));
        ASSERT_TRUE(odd.append(started_at(2 * i + 1)));
    }
    auto merged = RecordStore::merge({&even, &odd});
    ASSERT_EQ(merged.size(), 2u * kPerStore);
    for (uint32_t i = 0; i < merged.size(); ++i) ASSERT_EQ(merged[i].started_us, i) << "at " << i;
    EXPECT_EQ(even.size(), 0u);
    EXPECT_EQ(even.lost(), 0u);
}

TEST(RecordStore, RecordsBeyondTheCapacityAreCountedAsLost) {
    RecordStore store(5);
    for (uint32_t i = 0; i < 8; ++i) store.append(started_at(i));
    EXPECT_EQ(store.size(), 5u);
    EXPECT_EQ(store.lost(), 3u);
    EXPECT_EQ(RecordStore::merge({&store}).size(), 5u);
}

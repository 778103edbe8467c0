// FIFO ring of plain tasks (function pointer + argument). Grows by doubling and never shrinks,
// so a steady workload pushes and pops without allocating. Not thread-safe: the pool locks.
#pragma once

#include <atomic>
#include <cstddef>
#include <vector>

namespace optima_v2::runtime::detail {

struct PoolTask {
  void (*Fn)(void *) = nullptr;
  void *Arg = nullptr;
  // When non-null, incremented (under the pool lock) as the task is taken by a worker, so a
  // parallelFor caller knows which of its helpers are running and which it may still withdraw.
  std::atomic<int> *Running = nullptr;
  // Queued by a thread that will probably wait for it and then run it itself (see
  // ThreadPool::submit): a polling worker leaves it alone for a short grace period.
  bool Deferrable = false;
};

class TaskQueue {
public:
  explicit TaskQueue(size_t InitialCapacity = 256) : Buffer(InitialCapacity ? InitialCapacity : 1) {}

  bool empty() const noexcept { return Count == 0; }
  size_t size() const noexcept { return Count; }
  size_t deferrable() const noexcept { return Deferrables; }

  void pushBack(const PoolTask &T) {
    growIfFull();
    Buffer[(Head + Count) % Buffer.size()] = T;
    ++Count;
    Deferrables += T.Deferrable;
  }
  // Used for parallelFor helpers: they unblock a caller that is already running.
  void pushFront(const PoolTask &T) {
    growIfFull();
    Head = (Head + Buffer.size() - 1) % Buffer.size();
    Buffer[Head] = T;
    ++Count;
    Deferrables += T.Deferrable;
  }
  PoolTask popFront() noexcept {
    PoolTask T = Buffer[Head];
    Head = (Head + 1) % Buffer.size();
    --Count;
    Deferrables -= T.Deferrable;
    return T;
  }
  // Removes every task whose argument is Arg, keeping the order of the others.
  void removeArg(const void *Arg) noexcept {
    size_t Kept = 0;
    for (size_t I = 0; I < Count; ++I) {
      const PoolTask &T = Buffer[(Head + I) % Buffer.size()];
      if (T.Arg != Arg)
        Buffer[(Head + Kept++) % Buffer.size()] = T;
      else
        Deferrables -= T.Deferrable;
    }
    Count = Kept;
  }

  // Removes the first task running Fn on an argument in [Begin, End); returns its argument
  // (nullptr when there is none), keeping the order of the others.
  void *takeFirst(void (*Fn)(void *), const void *Begin, const void *End) noexcept {
    auto *Lo = static_cast<const char *>(Begin), *Hi = static_cast<const char *>(End);
    for (size_t I = 0; I < Count; ++I) {
      PoolTask &T = Buffer[(Head + I) % Buffer.size()];
      auto *A = static_cast<const char *>(T.Arg);
      if (T.Fn != Fn || A < Lo || A >= Hi)
        continue;
      void *Arg = T.Arg;
      Deferrables -= T.Deferrable;
      for (size_t J = I + 1; J < Count; ++J) // close the gap
        Buffer[(Head + J - 1) % Buffer.size()] = Buffer[(Head + J) % Buffer.size()];
      --Count;
      return Arg;
    }
    return nullptr;
  }

private:
  void growIfFull() {
    if (Count < Buffer.size())
      return;
    std::vector<PoolTask> Bigger(Buffer.size() * 2);
    for (size_t I = 0; I < Count; ++I)
      Bigger[I] = Buffer[(Head + I) % Buffer.size()];
    Buffer.swap(Bigger);
    Head = 0;
  }

  std::vector<PoolTask> Buffer;
  size_t Head = 0;
  size_t Count = 0;
  size_t Deferrables = 0; // queued tasks with Deferrable set
};

} // namespace optima_v2::runtime::detail

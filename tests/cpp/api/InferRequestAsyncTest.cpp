// Callbacks: both signatures, replacing, chained inference from inside the callback, many requests
// chaining at once, and destroying requests/models/contexts while chains are in flight.
#include "ApiTestUtil.h"

#include <atomic>
#include <future>
#include <optional>

namespace optima_v2::test {
namespace {

using namespace std::chrono_literals;

// Polls Pred until true or Limit passes.
template <class Pred> bool eventually(Pred &&P, std::chrono::milliseconds Limit = 30000ms) {
  auto End = std::chrono::steady_clock::now() + Limit;
  while (!P()) {
    if (std::chrono::steady_clock::now() > End)
      return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

using Callback = SampleModelTest;

TEST_F(Callback, GuideFormReceivesTheRequestAndNoError) {
  Watchdog Dog(60s, "two-argument callback");
  auto Req = Model.createRequest();
  auto Case = makeSampleCase(7);
  setInputs(Req, Case);
  struct Seen {
    uint32_t Id = 0;
    bool HadError = true;
    float Diff = -1;
  };
  std::promise<Seen> Called;
  auto Future = Called.get_future();
  Req.setCallback([&Called, &Case](rt::InferRequest &Self, std::exception_ptr Error) {
    Seen S;
    S.Id = Self.getID();
    S.HadError = Error != nullptr;
    S.Diff = maxAbsDiff(output(Self), Case.Expected); // outputs are ready inside the callback
    Called.set_value(S);
  });
  Req.infer();
  ASSERT_EQ(Future.wait_for(30s), std::future_status::ready);
  Seen S = Future.get();
  EXPECT_EQ(S.Id, Req.getID());
  EXPECT_FALSE(S.HadError);
  EXPECT_LE(S.Diff, 1e-4f);
  EXPECT_FALSE(Req.wait());
}

TEST_F(Callback, ReferenceOneArgumentForm) {
  Watchdog Dog(60s, "one-argument callback");
  auto Req = Model.createRequest();
  std::promise<bool> Called;
  auto Future = Called.get_future();
  Req.setCallback([&Called](std::exception_ptr Error) { Called.set_value(Error == nullptr); });
  Req.infer();
  ASSERT_EQ(Future.wait_for(30s), std::future_status::ready);
  EXPECT_TRUE(Future.get());
  EXPECT_FALSE(Req.wait());
}

TEST_F(Callback, SetCallbackReplacesThePreviousOne) {
  Watchdog Dog(60s, "callback replacement");
  auto Req = Model.createRequest();
  std::atomic<int> First{0}, Second{0};
  Req.setCallback([&First](rt::InferRequest &, std::exception_ptr) { ++First; });
  Req.setCallback([&Second](rt::InferRequest &, std::exception_ptr) { ++Second; });
  Req.infer();
  Req.wait();
  ASSERT_TRUE(eventually([&] { return Second.load() == 1; }));
  // An empty callback removes it.
  Req.setCallback(rt::InferRequestCallback());
  Req.infer();
  Req.wait();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(First.load(), 0);
  EXPECT_EQ(Second.load(), 1);
}

TEST_F(Callback, InferFromInsideTheCallback) {
  Watchdog Dog(60s, "infer() from the callback");
  auto Req = Model.createRequest();
  constexpr int Rounds = 10;
  auto Cases = std::make_shared<std::vector<SampleCase>>();
  for (uint32_t V = 0; V < Rounds; ++V)
    Cases->push_back(makeSampleCase(V));
  struct State {
    int Round = 0, Bad = 0;
    std::promise<void> Done;
  };
  auto S = std::make_shared<State>();
  auto Done = S->Done.get_future();
  Req.setCallback([S, Cases](rt::InferRequest &Self, std::exception_ptr Error) {
    if (Error || maxAbsDiff(output(Self), (*Cases)[S->Round].Expected) > 1e-4f)
      ++S->Bad;
    if (++S->Round == Rounds) {
      S->Done.set_value();
      return;
    }
    setInputs(Self, (*Cases)[S->Round]);
    Self.infer(); // the guide says this is safe
  });
  setInputs(Req, (*Cases)[0]);
  Req.infer();
  ASSERT_EQ(Done.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(S->Round, Rounds);
  EXPECT_EQ(S->Bad, 0);
  EXPECT_FALSE(Req.wait());
}

// ---- many requests chaining at once -----------------------------------------------------------

struct ChainState {
  std::vector<SampleCase> Cases;
  std::vector<size_t> Round; // per request; only its own callback touches it
  size_t Rounds = 0;
  std::atomic<size_t> Completed{0}, Mismatches{0}, Errors{0};
  std::mutex Mutex;
  std::condition_variable Cv;
  size_t Finished = 0;
  std::string FirstProblem;

  void finish(const std::string &Problem = {}) {
    std::lock_guard<std::mutex> Lock(Mutex);
    if (!Problem.empty() && FirstProblem.empty())
      FirstProblem = Problem;
    ++Finished;
    Cv.notify_all();
  }
};

void runChains(size_t RequestCount, size_t Rounds, std::chrono::seconds Limit) {
  Watchdog Dog(Limit + 30s, "chained inference");
  TempDir Dir;
  writeSampleModel(Dir.path() / "m");
  rt::Context Context;
  auto Model = Context.loadModel(Dir.path() / "m");

  auto State = std::make_shared<ChainState>();
  for (uint32_t V = 0; V < 8; ++V)
    State->Cases.push_back(makeSampleCase(V));
  State->Round.assign(RequestCount, 0);
  State->Rounds = Rounds;

  // The guide's way of making several requests.
  std::vector<rt::InferRequest> Reqs;
  for (size_t R = 0; R < RequestCount; ++R)
    Reqs.push_back(Model.createRequest());

  for (size_t R = 0; R < RequestCount; ++R) {
    Reqs[R].setCallback([State, R](rt::InferRequest &Req, std::exception_ptr Error) {
      try {
        size_t &Round = State->Round[R];
        if (Error) {
          ++State->Errors;
          State->finish("request " + std::to_string(R) + ": " + std::string(rt::getCause(Error)));
          return;
        }
        // Inputs differ every round, so a stale output cannot pass.
        const SampleCase &Case = State->Cases[(R + Round) % State->Cases.size()];
        if (maxAbsDiff(output(Req), Case.Expected) > 1e-4f)
          ++State->Mismatches;
        ++State->Completed;
        if (++Round == State->Rounds) {
          State->finish();
          return;
        }
        setInputs(Req, State->Cases[(R + Round) % State->Cases.size()]);
        Req.infer();
      } catch (const std::exception &E) {
        State->finish("request " + std::to_string(R) + " callback threw: " + E.what());
      }
    });
    setInputs(Reqs[R], State->Cases[R % State->Cases.size()]);
  }
  for (auto &Req : Reqs)
    Req.infer();

  {
    std::unique_lock<std::mutex> Lock(State->Mutex);
    ASSERT_TRUE(State->Cv.wait_for(Lock, Limit, [&] { return State->Finished == RequestCount; }))
        << "only " << State->Completed.load() << " of " << RequestCount * Rounds << " inferences completed";
    EXPECT_EQ(State->FirstProblem, "");
  }
  EXPECT_EQ(State->Completed.load(), RequestCount * Rounds);
  EXPECT_EQ(State->Mismatches.load(), 0u);
  EXPECT_EQ(State->Errors.load(), 0u);
  for (auto &Req : Reqs)
    EXPECT_FALSE(Req.wait());
}

TEST(ChainedInference, FourRequestsTwoHundredRounds) { runChains(4, 200, 120s); }

// The acceptance number of the issue (fast enough to run by default).
TEST(ChainedInference, FourRequestsThousandRounds) { runChains(4, 1000, 300s); }

// ---- destroying things while chains are in flight ----------------------------------------------

struct EndlessState {
  std::atomic<size_t> Completed{0}, Refused{0}, Errors{0};
};

// Each request re-starts itself from its callback forever; a refused restart (the request is being
// destroyed) is counted, not an error.
void startEndless(std::vector<rt::InferRequest> &Reqs, const std::shared_ptr<EndlessState> &State) {
  for (auto &Req : Reqs) {
    Req.setCallback([State](rt::InferRequest &Self, std::exception_ptr Error) {
      if (Error) {
        ++State->Errors;
        return;
      }
      ++State->Completed;
      try {
        Self.infer();
      } catch (const rt::Exception &) {
        ++State->Refused;
      }
    });
    Req.infer();
  }
}

class InFlight : public ::testing::Test {
protected:
  void SetUp() override {
    writeSampleModel(Dir.path() / "m");
    Context.emplace();
    Model = Context->loadModel(Dir.path() / "m");
    for (int I = 0; I < 4; ++I)
      Reqs.push_back(Model.createRequest());
    startEndless(Reqs, State);
    ASSERT_TRUE(eventually([&] { return State->Completed.load() >= 40; }));
  }

  Watchdog Dog{std::chrono::seconds(90), "destroying objects with requests in flight"};
  TempDir Dir{"optima_v2_inflight"};
  std::optional<rt::Context> Context;
  rt::Model Model;
  std::vector<rt::InferRequest> Reqs;
  std::shared_ptr<EndlessState> State = std::make_shared<EndlessState>();
};

TEST_F(InFlight, DestroyingRequestsStopsTheirChains) {
  Reqs.clear(); // destructors cancel or wait; no callback may run afterwards
  size_t AtDestroy = State->Completed.load();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(State->Completed.load(), AtDestroy);
  EXPECT_EQ(State->Errors.load(), 0u);
  // The model and context are still fine.
  auto Req = Model.createRequest();
  Req.infer();
  EXPECT_FALSE(Req.wait());
}

TEST_F(InFlight, DroppingModelAndContextHandlesKeepsRequestsRunning) {
  Model = rt::Model();
  Context.reset();
  size_t Before = State->Completed.load();
  EXPECT_TRUE(eventually([&] { return State->Completed.load() >= Before + 40; }));
  Reqs.clear();
  EXPECT_EQ(State->Errors.load(), 0u);
}

TEST_F(InFlight, DestroyingEverythingContextFirst) {
  Context.reset();
  Model = rt::Model();
  Reqs.clear();
  size_t AtDestroy = State->Completed.load();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(State->Completed.load(), AtDestroy);
}

TEST_F(InFlight, DestroyingOneRequestLeavesTheOthersRunning) {
  Reqs.erase(Reqs.begin());
  size_t Before = State->Completed.load();
  EXPECT_TRUE(eventually([&] { return State->Completed.load() >= Before + 40; }));
  EXPECT_EQ(State->Errors.load(), 0u);
}

TEST(InFlightScope, ScopeExitWithChainsRunningDoesNotHang) {
  Watchdog Dog(60s, "scope exit with chains running");
  auto State = std::make_shared<EndlessState>();
  TempDir Dir;
  writeSampleModel(Dir.path() / "m");
  {
    // Requests declared before the context: the context handle dies first at scope exit.
    std::vector<rt::InferRequest> Reqs;
    rt::Context Context;
    auto Model = Context.loadModel(Dir.path() / "m");
    for (int I = 0; I < 4; ++I)
      Reqs.push_back(Model.createRequest());
    startEndless(Reqs, State);
    ASSERT_TRUE(eventually([&] { return State->Completed.load() >= 20; }));
  }
  size_t AtExit = State->Completed.load();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(State->Completed.load(), AtExit);
}

} // namespace
} // namespace optima_v2::test

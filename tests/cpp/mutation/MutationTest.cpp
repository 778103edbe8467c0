// Mutation suite (issue #9 item 5): hundreds of corrupt model folders generated from the sample
// model and a three-subgraph chain model. The rule every case is held to:
//
//   Refused            loadModel throws InvalidModelException or UnsupportedModelException (no other
//                      type, no crash, no hang) and the message names the mutated file or folder.
//   Reference          the mutation is harmless (a label, whitespace, an inside symlink): the model
//                      loads and its outputs equal the naive reference.
//   RefusedOrReference one of the two above; used for the automatic JSON value swaps, where some
//                      swaps only touch labels. A swap that loads but computes something else fails.
//   WeightsReference   a byte flip inside weights.bin: there is no checksum, so the model loads; its
//                      outputs must equal the reference computed from the flipped weights (the
//                      flips keep floats finite), i.e. the runtime reads exactly the declared bytes.
//   Runs               a flip that may make a weight NaN/Inf/huge: loads and runs, values unchecked.
#include "MutationSupport.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <sys/stat.h>
#include <typeinfo>
#include <unistd.h>

namespace optima_v2::test::mutation {
namespace {

enum class Expect { Refused, Reference, RefusedOrReference, WeightsReference, Runs };

const char *expectName(Expect E) {
  switch (E) {
  case Expect::Refused: return "refused";
  case Expect::Reference: return "reference";
  case Expect::RefusedOrReference: return "refused-or-reference";
  case Expect::WeightsReference: return "weights-reference";
  case Expect::Runs: return "runs";
  }
  return "?";
}

// Applies a mutation to the model folder; Outside is a pristine copy next to it (a target that
// would load fine if the runtime followed a path out of the folder).
using Apply = std::function<void(const fs::path &Model, const fs::path &Outside)>;

struct Case {
  std::string Name;
  Apply Mutate;
  Expect Want;
  std::string Token; // the message must contain it
};

void replaceWithSymlink(const fs::path &P, const fs::path &Target) {
  fs::remove_all(P);
  fs::create_symlink(Target, P);
}

// ---------------------------------------------------------------------------------------------
// Generators

void fileCases(const BaseModel &B, std::vector<Case> &Out) {
  for (const std::string &Rel : B.Files) {
    std::string Prefix = B.Name + ":" + Rel + ":";
    std::string Bytes = readBytes(B.Folder / Rel);
    size_t Size = Bytes.size();
    bool IsJson = Rel.size() >= 5 && (Rel.rfind(".json") == Rel.size() - 5 || Rel == "model.meta");
    // The message names the file: "model.meta: ...", "Subgraph_1/graph.json: ...". weights.bin
    // problems may be reported by the graph loader ("Subgraph_0/graph.json: ... weights.bin").
    std::string Token = IsJson ? Rel : "weights.bin";
    auto Add = [&](const std::string &What, Apply A, Expect E) {
      Out.push_back({Prefix + What, std::move(A), E, Token});
    };

    Add("deleted", [Rel](const fs::path &M, const fs::path &) { fs::remove(M / Rel); }, Expect::Refused);
    for (size_t Keep : {size_t(0), Size / 2, Size - 1}) {
      // Dropping a JSON file's trailing newline is harmless; any other cut is not.
      Expect E = (IsJson && Keep == Size - 1 && std::isspace(static_cast<unsigned char>(Bytes.back())))
                     ? Expect::Reference
                     : Expect::Refused;
      Add("truncated_to_" + std::to_string(Keep),
          [Rel, Keep](const fs::path &M, const fs::path &) { fs::resize_file(M / Rel, Keep); }, E);
    }
    Add("appended_garbage",
        [Rel](const fs::path &M, const fs::path &) { writeBytes(M / Rel, readBytes(M / Rel) + "\x01garbage"); },
        IsJson ? Expect::Refused : Expect::Reference); // bytes past every declared range are never read
    Add("replaced_by_empty_folder",
        [Rel](const fs::path &M, const fs::path &) {
          fs::remove(M / Rel);
          fs::create_directory(M / Rel);
        },
        Expect::Refused);
    Add("replaced_by_folder_with_file",
        [Rel](const fs::path &M, const fs::path &O) {
          fs::remove(M / Rel);
          fs::create_directory(M / Rel);
          fs::copy_file(O / Rel, M / Rel / "x");
        },
        Expect::Refused);
    Add("symlink_to_outside_copy_absolute",
        [Rel](const fs::path &M, const fs::path &O) { replaceWithSymlink(M / Rel, O / Rel); }, Expect::Refused);
    Add("symlink_to_outside_copy_relative",
        [Rel](const fs::path &M, const fs::path &) {
          std::string Up = "../";
          for (char C : Rel)
            if (C == '/')
              Up += "../";
          replaceWithSymlink(M / Rel, Up + "outside/" + Rel);
        },
        Expect::Refused);
    Add("symlink_to_etc_passwd", [Rel](const fs::path &M, const fs::path &) { replaceWithSymlink(M / Rel, "/etc/passwd"); },
        Expect::Refused);
    Add("symlink_to_dev_zero", [Rel](const fs::path &M, const fs::path &) { replaceWithSymlink(M / Rel, "/dev/zero"); },
        Expect::Refused);
    Add("dangling_symlink",
        [Rel](const fs::path &M, const fs::path &) { replaceWithSymlink(M / Rel, M / "no_such_file"); }, Expect::Refused);
    Add("symlink_loop",
        [Rel](const fs::path &M, const fs::path &) { replaceWithSymlink(M / Rel, fs::path(Rel).filename()); },
        Expect::Refused);
    Add("fifo",
        [Rel](const fs::path &M, const fs::path &) {
          fs::remove(M / Rel);
          if (::mkfifo((M / Rel).c_str(), 0600) != 0)
            throw std::runtime_error("mkfifo failed");
        },
        Expect::Refused);
    Add("symlink_to_inside_copy",
        [Rel](const fs::path &M, const fs::path &) {
          fs::path P = M / Rel, Copy = P.parent_path() / (P.filename().string() + ".real");
          fs::rename(P, Copy);
          fs::create_symlink(Copy.filename(), P);
        },
        Expect::Reference);
    if (Rel != "model.meta")
      Add("symlink_to_other_file_inside",
          [Rel](const fs::path &M, const fs::path &) { replaceWithSymlink(M / Rel, M / "model.meta"); },
          Expect::Refused);

    if (IsJson) {
      // Any byte XOR 0x80 is invalid UTF-8 inside a string and a syntax error outside one.
      for (size_t Off : {size_t(0), size_t(1), Size / 5, Size / 4, Size / 3, Size / 2, 2 * Size / 3, 3 * Size / 4,
                         4 * Size / 5, Size - 2, Size - 1}) {
        Add("flip_0x80_at_" + std::to_string(Off),
            [Rel, Off](const fs::path &M, const fs::path &) {
              std::string B = readBytes(M / Rel);
              B[Off] = char(B[Off] ^ 0x80);
              writeBytes(M / Rel, B);
            },
            Expect::Refused);
      }
      Add("utf8_bom_prefix", [Rel](const fs::path &M, const fs::path &) { writeBytes(M / Rel, "\xEF\xBB\xBF" + readBytes(M / Rel)); },
          Expect::Refused);
      Add("nul_inside", [Rel, Size](const fs::path &M, const fs::path &) {
            std::string B = readBytes(M / Rel);
            B.insert(Size / 2, 1, '\0');
            writeBytes(M / Rel, B);
          },
          Expect::Refused);
    } else {
      // Weights: flips that keep every float finite (mantissa, exponent LSB, sign) at the first,
      // middle and last element, checked against the reference computed from the flipped file;
      // and flips that may produce NaN/Inf, which only have to run.
      size_t Words = Size / 4;
      for (size_t W : {size_t(0), Words / 2, Words - 1})
        for (auto [Byte, Mask] : {std::pair<size_t, int>{0, 0xFF}, {1, 0x01}, {2, 0x80}, {3, 0x80}}) {
          size_t Off = W * 4 + Byte;
          Add("flip_" + std::to_string(Mask) + "_at_" + std::to_string(Off),
              [Rel, Off, Mask = Mask](const fs::path &M, const fs::path &) {
                std::string B = readBytes(M / Rel);
                B[Off] = char(B[Off] ^ Mask);
                writeBytes(M / Rel, B);
              },
              Expect::WeightsReference);
        }
      for (size_t Off : {size_t(3), Size - 1})
        Add("wild_flip_at_" + std::to_string(Off),
            [Rel, Off](const fs::path &M, const fs::path &) {
              std::string B = readBytes(M / Rel);
              B[Off] = char(B[Off] ^ 0x7F);
              B[Off - 1] = char(B[Off - 1] ^ 0x80);
              writeBytes(M / Rel, B);
            },
            Expect::Runs);
    }
  }
}

void folderCases(const BaseModel &B, std::vector<Case> &Out) {
  for (const std::string &Rel : B.Subfolders) {
    std::string Prefix = B.Name + ":" + Rel + "/:";
    auto Add = [&](const std::string &What, Apply A, Expect E) {
      Out.push_back({Prefix + What, std::move(A), E, Rel});
    };
    Add("deleted", [Rel](const fs::path &M, const fs::path &) { fs::remove_all(M / Rel); }, Expect::Refused);
    Add("emptied",
        [Rel](const fs::path &M, const fs::path &) {
          fs::remove_all(M / Rel);
          fs::create_directory(M / Rel);
        },
        Expect::Refused);
    Add("replaced_by_file",
        [Rel](const fs::path &M, const fs::path &) {
          fs::remove_all(M / Rel);
          writeBytes(M / Rel, "not a folder");
        },
        Expect::Refused);
    Add("symlink_to_outside_copy_absolute",
        [Rel](const fs::path &M, const fs::path &O) { replaceWithSymlink(M / Rel, O / Rel); }, Expect::Refused);
    Add("symlink_to_outside_copy_relative",
        [Rel](const fs::path &M, const fs::path &) { replaceWithSymlink(M / Rel, "../outside/" + Rel); },
        Expect::Refused);
    Add("symlink_to_root", [Rel](const fs::path &M, const fs::path &) { replaceWithSymlink(M / Rel, "/"); },
        Expect::Refused);
    Add("dangling_symlink",
        [Rel](const fs::path &M, const fs::path &) { replaceWithSymlink(M / Rel, M / "no_such_folder"); },
        Expect::Refused);
    Add("symlink_loop", [Rel](const fs::path &M, const fs::path &) { replaceWithSymlink(M / Rel, Rel); },
        Expect::Refused);
    Add("symlink_to_inside_copy",
        [Rel](const fs::path &M, const fs::path &) {
          fs::rename(M / Rel, M / (Rel + ".real"));
          fs::create_symlink(Rel + ".real", M / Rel);
        },
        Expect::Reference);
    Add("extra_unknown_files",
        [Rel](const fs::path &M, const fs::path &) {
          writeBytes(M / Rel / "README", "ignored");
          fs::create_directory(M / Rel / "junk");
        },
        Expect::Reference);
  }
}

// Every JSON value swapped for values of the wrong type, negative and huge numbers, and strings
// naming places outside the folder.
void valueSwapCases(const BaseModel &B, std::vector<Case> &Out) {
  static const std::map<char, std::vector<std::string>> Swaps = {
      {'n',
       {"\"7\"", "null", "{}", "[]", "-1", "-9223372036854775809", "9223372036854775807", "18446744073709551616",
        "4294967297", "2147483648", "0.5", "1e308"}},
      {'s', {"7", "null", "[]", "{}", "\"\"", "\"../outside\"", "\"/etc/passwd\"", "\"\\u0000\"", "true"}},
      {'a', {"{}", "7", "\"x\"", "[]", "[[]]", "null"}},
      {'o', {"[]", "7", "\"x\"", "{}", "null"}},
      {'l', {"7", "\"x\"", "[]"}},
  };
  for (const std::string &Rel : B.Files) {
    if (Rel != "model.meta" && Rel.find("graph.json") == std::string::npos)
      continue;
    std::string Text = readBytes(B.Folder / Rel);
    for (const JsonSpan &S : locateJsonValues(Text)) {
      std::string Original = Text.substr(S.Begin, S.End - S.Begin);
      std::vector<std::pair<std::string, Expect>> Values;
      for (const auto &V : Swaps.at(S.Kind))
        if (V != Original)
          Values.push_back({V, Expect::RefusedOrReference});
      // Path-valued fields: targets outside the folder that would load fine if followed.
      bool IsSubgraphPath = Rel == "model.meta" && S.Kind == 's' && S.Path.size() > 5 &&
                            S.Path.compare(S.Path.size() - 5, 5, ".path") == 0;
      bool IsWeightsName = S.Kind == 's' && S.Path == "weights";
      if (IsSubgraphPath || IsWeightsName) {
        std::string V = Original.substr(1, Original.size() - 2);
        std::string Dir = Rel.find('/') == std::string::npos ? "" : Rel.substr(0, Rel.find('/') + 1);
        std::string Up = Dir.empty() ? "../" : "../../";
        Values.push_back({"\"" + Up + "outside/" + Dir + V + "\"", Expect::Refused});
        Values.push_back({"\"@OUTSIDE@/" + Dir + V + "\"", Expect::Refused}); // absolute
        Values.push_back({"\"" + V + "/../" + V + "\"", Expect::Refused});
        Values.push_back({"\"../" + V + "\"", Expect::Refused});
        if (IsSubgraphPath) {
          Values.push_back({"\"./" + V + "\"", Expect::Reference});
          Values.push_back({"\"" + V + "/\"", Expect::Reference});
        }
      }
      for (const auto &[Value, E] : Values) {
        std::string Name = B.Name + ":" + Rel + ":" + S.Path + "=" + Value;
        size_t Begin = S.Begin, End = S.End;
        Out.push_back({Name,
                       [Rel, Begin, End, Value = Value](const fs::path &M, const fs::path &O) {
                         std::string T = readBytes(M / Rel), V = Value;
                         if (auto P = V.find("@OUTSIDE@"); P != std::string::npos)
                           V.replace(P, 9, O.string());
                         writeBytes(M / Rel, T.substr(0, Begin) + V + T.substr(End));
                       },
                       E, Rel});
      }
    }
  }
}

std::vector<Case> allCases(const BaseModel &B) {
  std::vector<Case> Cases;
  fileCases(B, Cases);
  folderCases(B, Cases);
  valueSwapCases(B, Cases);
  return Cases;
}

// ---------------------------------------------------------------------------------------------
// Runner

struct Tally {
  size_t Cases = 0, Refused = 0, Loaded = 0;
};

class MutationTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    // Thousands of small folders are written and removed: on tmpfs that takes seconds, on a
    // journaling disk over a minute. An explicit TMPDIR wins.
    if (!std::getenv("TMPDIR") && ::access("/dev/shm", W_OK) == 0)
      ::setenv("TMPDIR", "/dev/shm", 0);
    Work = std::make_unique<TempDir>("optima_v2_mutation");
    Context = std::make_unique<rt::Context>();
    Context->setVerbosity(rt::LogLevel::Error);
  }
  static void TearDownTestSuite() {
    std::printf("[ mutation ] %zu cases: %zu refused with a typed exception naming the file, %zu loaded and "
                "checked\n",
                Total.Cases, Total.Refused, Total.Loaded);
    Context.reset();
    Work.reset();
  }

  // Runs every case of B in a fresh copy; one failure per broken case, named after it.
  void runAll(const BaseModel &B, const std::vector<Case> &Cases) {
    fs::path Root = Work->path() / B.Name;
    fs::path Outside = Root / "outside", Model = Root / "model";
    fs::create_directories(Root);
    fs::copy(B.Folder, Outside, fs::copy_options::recursive);
    { // The unmutated model loads and matches the oracle (otherwise every case below is moot).
      fs::copy(B.Folder, Model, fs::copy_options::recursive);
      rt::Model M = Context->loadModel(Model);
      ASSERT_EQ(B.Run(M, Model, true), "") << B.Name << ": pristine model";
      fs::remove_all(Model);
    }
    StepWatchdog Dog(std::chrono::seconds(60));
    Tally T;
    for (const Case &C : Cases) {
      Dog.step(C.Name);
      ++T.Cases;
      fs::copy(B.Folder, Model, fs::copy_options::recursive);
      C.Mutate(Model, Outside);
      std::string Failure = runOne(B, C, Model, T);
      if (!Failure.empty())
        ADD_FAILURE() << "case " << C.Name << " (expected " << expectName(C.Want) << "): " << Failure;
      fs::remove_all(Model);
      ASSERT_FALSE(fs::exists(Model));
    }
    std::printf("[ mutation ] %s: %zu cases, %zu refused, %zu loaded\n", B.Name.c_str(), T.Cases, T.Refused,
                T.Loaded);
    Total.Cases += T.Cases;
    Total.Refused += T.Refused;
    Total.Loaded += T.Loaded;
    RecordProperty(B.Name + "_cases", int(T.Cases));
  }

  static std::string runOne(const BaseModel &B, const Case &C, const fs::path &Dir, Tally &T) {
    bool MayRefuse = C.Want == Expect::Refused || C.Want == Expect::RefusedOrReference;
    rt::Model M;
    try {
      M = Context->loadModel(Dir);
    } catch (const rt::InvalidModelException &E) {
      return refused(C, E.what(), MayRefuse, T);
    } catch (const rt::UnsupportedModelException &E) {
      return refused(C, E.what(), MayRefuse, T);
    } catch (const std::exception &E) {
      return std::string("wrong exception type ") + typeid(E).name() + ": " + E.what();
    } catch (...) {
      return "a non-std exception";
    }
    ++T.Loaded;
    if (C.Want == Expect::Refused)
      return "loaded, but must be refused";
    try {
      std::string Diff = B.Run(M, Dir, C.Want != Expect::Runs);
      if (!Diff.empty())
        return "loaded, but the output differs from the reference: " + Diff;
    } catch (const std::exception &E) {
      return std::string("loaded, but inference threw ") + typeid(E).name() + ": " + E.what();
    }
    return "";
  }

  static std::string refused(const Case &C, const std::string &Message, bool MayRefuse, Tally &T) {
    ++T.Refused;
    if (!MayRefuse)
      return "refused, but must load: " + Message;
    if (Message.find(C.Token) == std::string::npos)
      return "the message does not name \"" + C.Token + "\": " + Message;
    return "";
  }

  static inline std::unique_ptr<TempDir> Work;
  static inline std::unique_ptr<rt::Context> Context;
  static inline Tally Total;
};

TEST_F(MutationTest, SampleModel) {
  BaseModel B = makeSampleBase(Work->path());
  auto Cases = allCases(B);
  EXPECT_GE(Cases.size(), 250u);
  runAll(B, Cases);
}

TEST_F(MutationTest, ChainModelOfThreeSubgraphs) {
  BaseModel B = makeChainBase(Work->path());
  auto Cases = allCases(B);
  EXPECT_GE(Cases.size(), 250u);
  runAll(B, Cases);
}

// The locator the value swaps rely on finds every value with its path (so a change in the
// writers' output cannot silently shrink the suite).
TEST(MutationLocator, FindsEveryValueWithItsPath) {
  auto Spans = locateJsonValues(R"({"a": [1, "x", {"b": null}], "c": -2.5e3})");
  std::vector<std::string> Paths;
  for (const auto &S : Spans)
    Paths.push_back(S.Path + "=" + std::string(1, S.Kind));
  EXPECT_EQ(Paths, (std::vector<std::string>{"(root)=o", "a=a", "a[0]=n", "a[1]=s", "a[2]=o", "a[2].b=l", "c=n"}));
  EXPECT_EQ(Spans.back().End - Spans.back().Begin, 6u);
}

} // namespace
} // namespace optima_v2::test::mutation

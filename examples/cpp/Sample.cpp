// The user's guide's C++ code as one program (shared/seeds/inference-guide.md, "C++" tabs), run on the
// guide's sample model and checked against a naive reference computed here.
//
//   Sample [MODEL_FOLDER [EXTENSION ...]]     (default model folder: examples/sample_model)
//
// The sample model is output_1 = Conv2d(input_1, W, 3x3, stride 1, pad 1, no bias) + input_2 with
// input_1 [1, C, H, W], input_2 and output_1 [1, 1, H, W], all F32. ASSUMPTION (documented so the
// check needs no JSON parser): the convolution weight W [1, C, 3, 3] is the only constant of the
// model and is stored at offset 0 of Subgraph_0/weights.bin, little-endian F32. Exit status 0 when
// every output matches the reference within 1e-5 (relative for values above 1), else 1.
#include <OptimaV2/Runtime.h>
#include <OptimaV2/Runtime/Utils/StreamHelper.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

namespace rt = optima_v2::runtime;

namespace {

struct Dims {
  uint32_t C = 0, H = 0, W = 0;
};

// Deterministic inputs that change with Round, in [-0.5, 0.5].
std::vector<float> makeInput(size_t Count, float Frequency, float Round) {
  std::vector<float> Values(Count);
  for (size_t I = 0; I < Count; ++I)
    Values[I] = 0.5f * std::sin(Frequency * float(I) + Round);
  return Values;
}

std::vector<float> readConvWeights(const std::filesystem::path &ModelPath, size_t Count) {
  const auto Path = ModelPath / "Subgraph_0" / "weights.bin";
  std::ifstream In(Path, std::ios::binary);
  std::vector<float> Weights(Count);
  In.read(reinterpret_cast<char *>(Weights.data()), std::streamsize(Count * sizeof(float)));
  if (!In)
    throw std::runtime_error("cannot read " + std::to_string(Count) + " weights from " + Path.string());
  return Weights;
}

// Naive conv 3x3 (pad 1) + add, accumulated in double: the oracle.
std::vector<float> reference(const std::vector<float> &In1, const std::vector<float> &In2,
                             const std::vector<float> &Weights, Dims D) {
  std::vector<float> Out(size_t(D.H) * D.W);
  for (uint32_t Y = 0; Y < D.H; ++Y)
    for (uint32_t X = 0; X < D.W; ++X) {
      double Acc = In2[size_t(Y) * D.W + X];
      for (uint32_t C = 0; C < D.C; ++C)
        for (int KY = 0; KY < 3; ++KY)
          for (int KX = 0; KX < 3; ++KX) {
            long IY = long(Y) + KY - 1, IX = long(X) + KX - 1;
            if (IY < 0 || IX < 0 || IY >= long(D.H) || IX >= long(D.W))
              continue;
            Acc += double(In1[(size_t(C) * D.H + size_t(IY)) * D.W + size_t(IX)]) *
                   Weights[(size_t(C) * 3 + size_t(KY)) * 3 + size_t(KX)];
          }
      Out[size_t(Y) * D.W + X] = float(Acc);
    }
  return Out;
}

// Counts the elements off by more than 1e-5 (relative above 1) and reports the first.
size_t mismatches(const std::string &What, const float *Got, const std::vector<float> &Expected) {
  size_t Bad = 0;
  for (size_t I = 0; I < Expected.size(); ++I) {
    double Diff = std::fabs(double(Got[I]) - Expected[I]);
    if (!(Diff <= 1e-5 * std::max(1.0, std::fabs(double(Expected[I]))))) {
      if (Bad++ == 0)
        std::cerr << What << ": element " << I << " is " << Got[I] << ", expected " << Expected[I] << '\n';
    }
  }
  return Bad;
}

Dims checkSampleModel(const rt::Model &Model) {
  if (Model.getInputTensorCount() != 2 || Model.getOutputTensorCount() != 1)
    throw std::runtime_error("not the guide's sample model: expected 2 inputs and 1 output");
  const auto &In1 = Model.getInputTensorInfo("input_1");
  const auto &In2 = Model.getInputTensorInfo("input_2");
  const auto &Out = Model.getOutputTensorInfo("output_1");
  const auto &S = In1.TensorShape;
  if (S.getDimensionSize() != 4 || S[0] != 1 || In2.TensorShape != rt::Shape(1, 1, S[2], S[3]) ||
      Out.TensorShape != In2.TensorShape || In1.TensorType != rt::ElementType::F32 ||
      In2.TensorType != rt::ElementType::F32 || Out.TensorType != rt::ElementType::F32)
    throw std::runtime_error("not the guide's sample model: unexpected shapes or types");
  return {S[1], S[2], S[3]};
}

int run(int argc, char **argv) {
  const std::filesystem::path ModelPath = argc > 1 ? argv[1] : "examples/sample_model";
  size_t Failures = 0;

  // ---- Create the context ----
  auto Options = rt::ContextOptions();

  Options.LogLevel = rt::LogLevel::Verbose;               // setup verbosity of logger.
  Options.LogPath = std::filesystem::path("runtime.log"); // set file path of log. default is stdout.

  auto Context = rt::Context(Options);
  for (int I = 2; I < argc; ++I)
    Context.loadExtension(argv[I]); // the guide's Context.loadExtension("path/to/extension");
  std::cout << "OptimaV2 Runtime " << rt::Context::getVersion().Major << '.'
            << rt::Context::getVersion().Minor << '.' << rt::Context::getVersion().Patch << '\n';
  for (const auto &Extension : Context.getLoadedExtensions())
    std::cout << "extension: " << Extension << '\n';
  for (const auto &Device : Context.getAvailableDevices())
    std::cout << Device << '\n';

  // ---- Load the model ----
  auto Model = Context.loadModel(ModelPath);

  auto InputCount = Model.getInputTensorCount();
  for (auto i = 0u; i < InputCount; ++i) {
    auto &Info = Model.getInputTensorInfo(i);
    std::cout << "input  " << i << ": " << Info << '\n';
  }
  for (auto i = 0u; i < Model.getOutputTensorCount(); ++i)
    std::cout << "output " << i << ": " << Model.getOutputTensorInfo(i) << '\n';
  {
    auto &Info = Model.getInputTensorInfo(1); // via index
    std::cout << "input 1 is " << Info.TensorName << '\n';
  }
  {
    auto &Info = Model.getInputTensorInfo("input_1"); // via name
    std::cout << "input_1 has shape " << Info.TensorShape << '\n';
  }
  const Dims D = checkSampleModel(Model);
  const auto Weights = readConvWeights(ModelPath, size_t(D.C) * 9);
  const size_t In1Count = size_t(D.C) * D.H * D.W, PlaneCount = size_t(D.H) * D.W;

  // ---- Create the requests ----
  auto Req = Model.createRequest();

  std::vector<rt::InferRequest> Reqs;
  for (auto i = 0; i < 4; ++i)
    Reqs.push_back(Model.createRequest());

  // ---- Set input tensors ----
  auto Input1 = makeInput(In1Count, 0.37f, 0), Input2 = makeInput(PlaneCount, 0.11f, 0);
  for (auto &&Tensor : Req.getInputTensors()) {
    if (Tensor.getName() == "input_1") {
      // Simple copy with the wrapper method.
      Tensor.copyFrom(Input1.data(), Input1.size());
    } else {
      // Direct access to the tensor's memory.
      auto Buffer = Tensor.getBuffer();
      auto *Ptr = Buffer.data();
      std::memcpy(Ptr, Input2.data(), Input2.size() * sizeof(float));
    }
  }
  auto Expected = reference(Input1, Input2, Weights, D);

  // ---- Run inference: synchronously ----
  Req.infer();
  Req.wait();
  {
    std::vector<float> Output(PlaneCount);
    Req.getOutputTensor(0).copyTo(Output.data(), Output.size());
    Failures += mismatches("sync", Output.data(), Expected);
  }

  // ... with a timeout.
  {
    using namespace std::literals; // for ms literal
    Req.infer();
    if (Req.wait(100ms)) {
      std::cout << "infer() not finished before 100ms timeout\n";
      Req.wait();
    } else {
      std::cout << "infer() finished before 100ms timeout\n";
    }
  }

  // ---- Get output tensors ----
  for (auto &&Tensor : Req.getOutputTensors()) {
    std::vector<float> OutputBuffer(Tensor.getTensorSize() / sizeof(float));
    Tensor.copyTo(OutputBuffer.data(), OutputBuffer.size());
    Failures += mismatches("copyTo", OutputBuffer.data(), Expected);

    auto Buffer = Tensor.getBuffer();
    auto *Ptr = Buffer.cast<float>();
    Failures += mismatches("getBuffer", Ptr, Expected);
  }
  {
    auto Tensor = Req.getOutputTensor("output_1"); // via name
    std::vector<float> Output(PlaneCount);
    Tensor.copyTo(Output.data(), Output.size());
    Failures += mismatches("by name", Output.data(), Expected);
  }

  // ---- Run inference: asynchronously, chained from the callback ----
  // Each request runs Rounds inferences; the callback checks the outputs, sets the next inputs and
  // calls infer() again, as the guide shows.
  constexpr int Rounds = 5;
  std::mutex Mutex;
  std::condition_variable Cv;
  int Finished = 0;
  size_t AsyncFailures = 0;
  std::vector<int> Round(Reqs.size(), 0);
  std::vector<std::vector<float>> Expect(Reqs.size());

  auto SetInputs = [&](rt::InferRequest &R, size_t Index) {
    const float Phase = float(Index * 10 + size_t(Round[Index]));
    auto In1 = makeInput(In1Count, 0.37f, Phase), In2 = makeInput(PlaneCount, 0.11f, Phase);
    R.getInputTensor("input_1").copyFrom(In1.data(), In1.size());
    R.getInputTensor(1).copyFrom(In2.data(), In2.size());
    Expect[Index] = reference(In1, In2, Weights, D);
  };

  for (size_t Index = 0; Index < Reqs.size(); ++Index) {
    Reqs[Index].setCallback([&, Index](rt::InferRequest &Req, std::exception_ptr Error) {
      // Req: itself, Error: the exception of a failed inference
      bool Done = false;
      if (Error != nullptr) {
        std::cerr << "request " << Index << " failed: " << rt::getCause(Error) << '\n';
        std::lock_guard<std::mutex> Lock(Mutex);
        ++AsyncFailures;
        Done = true;
      } else {
        // Get outputs
        auto Buffer = Req.getOutputTensor(0).getBuffer();
        size_t Bad = mismatches("request " + std::to_string(Index), Buffer.cast<float>(), Expect[Index]);
        std::lock_guard<std::mutex> Lock(Mutex);
        AsyncFailures += Bad;
        Done = ++Round[Index] == Rounds;
      }
      if (Done) {
        std::lock_guard<std::mutex> Lock(Mutex);
        ++Finished;
        Cv.notify_all();
        return;
      }
      // Set input data and infer again
      SetInputs(Req, Index);
      Req.infer(); // This code is safe.
    });
    SetInputs(Reqs[Index], Index);
  }
  for (auto &R : Reqs)
    R.infer();
  {
    std::unique_lock<std::mutex> Lock(Mutex);
    if (!Cv.wait_for(Lock, std::chrono::seconds(60), [&] { return Finished == int(Reqs.size()); })) {
      std::cerr << "chained inference did not finish within 60 s\n";
      return 1;
    }
    Failures += AsyncFailures;
  }

  // ---- Get profile data ----
  auto Datas = Req.getProfileData();

  for (auto &Data : Datas) {
    // <OptimaV2/Runtime/Utils/StreamHelper.h> must be included.
    std::cout << Data << std::endl;
  }
  if (Datas.empty()) {
    std::cerr << "no profile data after a finished inference\n";
    ++Failures;
  }

  std::cout << (Failures ? "FAILED" : "OK") << ": " << 2 + Reqs.size() * Rounds
            << " inferences checked against the reference\n";
  return Failures ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const rt::Exception &E) {
    std::cerr << "runtime error: " << E.what() << '\n';
  } catch (const std::exception &E) {
    std::cerr << "error: " << E.what() << '\n';
  }
  return 1;
}

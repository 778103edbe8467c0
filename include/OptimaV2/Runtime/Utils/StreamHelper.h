#pragma once

#include <OptimaV2/Runtime/Device.h>
#include <OptimaV2/Runtime/FrameworkKind.h>
#include <OptimaV2/Runtime/Logging/LogLevel.h>
#include <OptimaV2/Runtime/Profile.h>
#include <OptimaV2/Runtime/Shape.h>
#include <OptimaV2/Runtime/Tensor.h>
#include <OptimaV2/Runtime/Type.h>
#include <OptimaV2/Runtime/Utils/ToString.h>

#include <ostream>

namespace optima_v2::runtime {

inline std::ostream &operator<<(std::ostream &Out, ElementType V) { return Out << toString(V); }
inline std::ostream &operator<<(std::ostream &Out, DeviceKind V) { return Out << toString(V); }
inline std::ostream &operator<<(std::ostream &Out, FrameworkKind V) { return Out << toString(V); }
inline std::ostream &operator<<(std::ostream &Out, LogLevel V) { return Out << toString(V); }
inline std::ostream &operator<<(std::ostream &Out, ProfileKind V) { return Out << toString(V); }

// [1, 3, 224, 224]; a scalar prints as []
inline std::ostream &operator<<(std::ostream &Out, const Shape &S) {
  Out << '[';
  for (size_t I = 0; I < S.getDimensionSize(); ++I)
    Out << (I ? ", " : "") << S[I];
  return Out << ']';
}

// TensorInfo(name=input_1, type=F32, shape=[1, 3, 32, 32], alignment=64)
inline std::ostream &operator<<(std::ostream &Out, const TensorInfo &Info) {
  return Out << "TensorInfo(name=" << Info.TensorName << ", type=" << Info.TensorType
             << ", shape=" << Info.TensorShape << ", alignment=" << Info.Alignment << ')';
}

// DeviceInfo(framework=Native, kind=x64, index=0, name=..., id=...)
inline std::ostream &operator<<(std::ostream &Out, const DeviceInfo &Info) {
  return Out << "DeviceInfo(framework=" << Info.Framework << ", kind=" << Info.Kind
             << ", index=" << Info.Index << ", name=" << Info.Name << ", id=" << Info.ID << ')';
}

// ProfileData(kind=LayerExecute, name=conv_0, time=12us)
inline std::ostream &operator<<(std::ostream &Out, const ProfileData &Data) {
  return Out << "ProfileData(kind=" << Data.Kind << ", name=" << Data.Name
             << ", time=" << Data.Time.count() << "us)";
}

} // namespace optima_v2::runtime

#pragma once
// Re-initialising a layer as PyTorch creates it: the model parameter randomisation of Adebayo et
// al., "Sanity Checks for Saliency Maps" (NeurIPS 2018), which re-initialises layers with their
// initialisers rather than shuffling or zeroing them.
//
// Each module type gets what its torch.nn class's reset_parameters gives a new layer:
//   - convolutions (Conv*, ConvTranspose*) and Linear (also NonDynamicallyQuantizableLinear):
//     weight kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
//     fan_in = weight.size(1) * prod(kernel) (torch.nn.init._calculate_fan_in_and_fan_out),
//     bias U(-1/sqrt(fan_in), 1/sqrt(fan_in));
//   - normalisation layers (*BatchNorm*, *InstanceNorm*, GroupNorm, LayerNorm, LayerNorm2d):
//     weight 1, bias 0, running_mean 0, running_var 1, num_batches_tracked 0;
//   - Embedding: N(0, 1); PReLU: 0.25;
//   - MultiheadAttention's own tensors: in_proj_weight / q,k,v_proj_weight xavier_uniform_,
//     in_proj_bias 0, bias_k / bias_v xavier_normal_ (its out_proj is a Linear of its own);
//   - any other module's parameters (a ViT's class token, ConvNeXt's layer scale, a custom
//     layer): U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in as above for two or more dimensions and
//     the element count for fewer. Their buffers (attention masks, position indices) are kept:
//     they are structure, not learnt.
// Nothing here is torchvision's model-specific initialisation (kaiming_normal_ fan_out for
// ResNet convolutions): the paper asks for the layers' default initialisers.
//
// Values are drawn on the CPU in fp32 from LibTorch's CPU generator (mt19937) seeded by XXH3 of
// (seed, module path), then cast to the tensor's dtype and device: the same seed and path give
// the same values on every machine, whatever else is re-initialised and in whichever order.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace camx {

using NamedTensorList = std::vector<std::pair<std::string, at::Tensor>>;

// The initialiser family reset_parameters gives a module type name ("Conv2d", "BatchNorm2d").
enum class InitKind { ConvOrLinear, Norm, Embedding, PRelu, MultiheadAttention, Other };
InitKind initKindOf(const std::string& typeName);

// Replaces (never writes into) the module's own `parameters` and `buffers`, named by their short
// names ("weight", "running_var"), with new tensors of the same shape, dtype and device.
void reinitializeModule(const std::string& path, const std::string& typeName,
                        NamedTensorList& parameters, NamedTensorList& buffers, std::uint64_t seed);

}  // namespace camx

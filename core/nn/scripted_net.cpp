#include "nn/scripted_net.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/freeze_module.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/passes/remove_mutation.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <sstream>

namespace camx {

namespace jit = torch::jit;

namespace {

// Where a value lives in the prepared graph: its node's index among the top-level nodes, and
// which of that node's outputs it is. A graph copy has the same nodes in the same order.
struct ValueRef {
    std::size_t node = 0;
    std::size_t output = 0;
    bool operator<(const ValueRef& o) const {
        return node != o.node ? node < o.node : output < o.output;
    }
    bool operator==(const ValueRef& o) const { return node == o.node && output == o.output; }
};

std::vector<jit::Node*> topNodes(const std::shared_ptr<jit::Graph>& g) {
    std::vector<jit::Node*> out;
    for (jit::Node* n : g->nodes()) out.push_back(n);
    return out;
}

// The module path of the call a node was inlined from: "features.denseblock4.denselayer16".
std::string modulePath(jit::Node* n) {
    auto cs = n->callstack();
    if (!cs) return {};
    std::string path;
    for (const auto& entry : (*cs)->vec()) {
        const auto& info = std::get<2>(entry);
        if (!info) continue;
        const std::string& name = info->instance_name();
        if (name == "SELF" || name == "INSTANCE_NAME_UNKNOWN" || name.empty()) continue;
        path += (path.empty() ? "" : ".") + name;
    }
    return path;
}

bool producesTensor(jit::Node* n) {
    for (jit::Value* v : n->outputs())
        if (v->type()->kind() == c10::TypeKind::TensorType) return true;
    return false;
}

// "a.b.c" -> {"a", "a.b", "a.b.c"}
std::vector<std::string> prefixes(const std::string& path) {
    std::vector<std::string> out;
    for (std::size_t pos = 0; !path.empty();) {
        const std::size_t dot = path.find('.', pos);
        out.push_back(path.substr(0, dot));
        if (dot == std::string::npos) break;
        pos = dot + 1;
    }
    return out;
}

jit::Node* topLevelOf(jit::Node* n, jit::Block* top) {
    while (n && n->owningBlock() != top) n = n->owningBlock()->owningNode();
    return n;
}

// The line of an error that says what went wrong: LibTorch's first line, or for an error raised
// inside TorchScript code (a traceback), its last line ("RuntimeError: The size of ...").
std::string firstLine(const std::string& s) {
    if (s.find("Traceback of TorchScript") != std::string::npos) {
        std::size_t end = s.find_last_not_of(" \n");
        if (end != std::string::npos) {
            const std::size_t begin = s.rfind('\n', end);
            return s.substr(begin == std::string::npos ? 0 : begin + 1, end - begin);
        }
    }
    const std::size_t nl = s.find('\n');
    return nl == std::string::npos ? s : s.substr(0, nl);
}

std::string errorText(const std::exception& e) {
    const auto* c10e = dynamic_cast<const c10::Error*>(&e);
    return firstLine(c10e ? c10e->what_without_backtrace() : e.what());
}

std::string shapeText(const at::Tensor& t) {
    std::ostringstream o;
    o << t.sizes();
    return o.str();
}

std::string describeLoadError(const std::string& source, const std::string& what) {
    const std::string version = TORCH_VERSION;
    for (const char* key : {"Unknown builtin op: ", "Unknown builtin op ", "unknown builtin op "}) {
        const std::size_t at = what.find(key);
        if (at == std::string::npos) continue;
        std::string op = what.substr(at + std::strlen(key));
        op = op.substr(0, op.find_first_of(".\n "));
        return "'" + source + "' needs the operator " + op + ", which the LibTorch " + version +
               " CAM Explorer runs on does not have: the model was saved by a newer PyTorch. "
               "Export it again with PyTorch " +
               version.substr(0, version.rfind('.')) +
               " (or an older 1.x), or from a model that avoids that operator";
    }
    if (what.find("file format version") != std::string::npos ||
        what.find("supported versions") != std::string::npos ||
        what.find("kMaxSupportedFileFormatVersion") != std::string::npos)
        return "'" + source + "' was written in a TorchScript format newer than LibTorch " +
               version + " reads: export it again with PyTorch " +
               version.substr(0, version.rfind('.'));
    return "'" + source + "' is not a loadable TorchScript model: " + firstLine(what);
}

std::optional<at::Tensor> constantTensor(jit::Value* v) {
    auto iv = jit::toIValue(v);
    if (!iv || !iv->isTensor()) return std::nullopt;
    return iv->toTensor();
}

std::optional<std::vector<int64_t>> constantInts(jit::Value* v) {
    auto iv = jit::toIValue(v);
    if (!iv) return std::nullopt;
    if (iv->isIntList()) return iv->toIntVector();
    if (iv->isInt()) return std::vector<int64_t>{iv->toInt()};
    return std::nullopt;
}

bool constantIs(jit::Value* v, bool want) {
    auto iv = jit::toIValue(v);
    return iv && iv->isBool() && iv->toBool() == want;
}

}  // namespace

struct ScriptedNet::Impl {
    jit::Module module;                    // as loaded: the logits path
    jit::Module frozen;                    // what the prepared graph runs against
    std::shared_ptr<jit::Graph> graph;     // inlined, frozen, mutation removed
    std::vector<c10::IValue> extraInputs;  // defaults of optional forward arguments
    struct Layer {
        std::string name;
        Layout layout = Layout::Nchw;
        ValueRef ref;
        std::string dictKey;  // Layout::DictEntry
        int prefix = 0;
        int64_t gridH = 0, gridW = 0;
    };
    std::vector<Layer> layers;  // one per tap
    // Module path -> the first top-level node of the prepared graph run under it (or below it).
    std::map<std::string, std::size_t> firstNode;
    std::map<std::vector<ValueRef>, std::unique_ptr<jit::GraphFunction>> functions;

    jit::GraphFunction& function(const std::vector<ValueRef>& refs) {
        auto it = functions.find(refs);
        if (it != functions.end()) return *it->second;
        if (functions.size() > 32) functions.clear();
        std::shared_ptr<jit::Graph> g = graph->copy();
        const std::vector<jit::Node*> nodes = topNodes(g);
        std::vector<jit::Value*> outs{g->outputs()[0]};
        for (const ValueRef& r : refs) outs.push_back(nodes.at(r.node)->outputs().at(r.output));
        g->eraseOutput(0);
        {
            jit::WithInsertPoint point(g->return_node());
            jit::Node* tuple = g->insertNode(g->createTuple(outs));
            g->registerOutput(tuple->output());
        }
        auto fn = std::make_unique<jit::GraphFunction>("camx_layers", g, nullptr,
                                                       jit::ExecutorExecutionMode::SIMPLE);
        return *functions.emplace(refs, std::move(fn)).first->second;
    }

    // Runs the prepared graph; element 0 is the module's own output, then one per ref.
    std::vector<c10::IValue> run(const at::Tensor& x, const std::vector<ValueRef>& refs) {
        jit::GraphFunction& fn = function(refs);
        std::vector<c10::IValue> stack{frozen._ivalue(), x};
        for (const auto& v : extraInputs) stack.push_back(v);
        fn.run(stack);
        auto tuple = stack.at(0).toTuple();
        return tuple->elements().vec();
    }
};

namespace {

// The logits tensor in what forward returned: the tensor itself, a tuple's first tensor, a dict's
// "logits" (or "out") entry.
at::Tensor logitsOf(const c10::IValue& out) {
    if (out.isTensor()) return out.toTensor();
    if (out.isTuple()) {
        for (const auto& e : out.toTupleRef().elements())
            if (e.isTensor()) return e.toTensor();
    }
    if (out.isGenericDict()) {
        const auto dict = out.toGenericDict();
        for (const char* key : {"logits", "out", "output"}) {
            auto it = dict.find(c10::IValue(std::string(key)));
            if (it != dict.end() && it->value().isTensor()) return it->value().toTensor();
        }
    }
    if (out.isList()) {
        for (const auto& e : out.toListRef())
            if (e.isTensor()) return e.toTensor();
    }
    return {};
}

}  // namespace

ScriptedNet::ScriptedNet(const std::string& bytes, const std::string& source,
                         const ScriptMeta& overrides, c10::Device device,
                         const MetaParser& parseMeta)
    : d(std::make_unique<Impl>()), m_device(device) {
    // Load, with the metadata extra file.
    jit::ExtraFilesMap extra{{kScriptMetaFile, ""}};
    try {
        std::istringstream in(bytes);
        d->module = jit::load(in, device, extra);
    } catch (const c10::Error& e) {
        throw ScriptModelError(describeLoadError(source, e.what_without_backtrace()));
    } catch (const std::bad_alloc&) {
        throw ScriptModelError("'" + source + "' is too large to load: out of memory");
    } catch (const std::exception& e) {
        throw ScriptModelError(describeLoadError(source, e.what()));
    }
    if (!extra[kScriptMetaFile].empty()) m_fileMeta = parseMeta(extra[kScriptMetaFile], source);
    m_meta = m_fileMeta;
    m_meta.overrideWith(overrides);
    m_inputSize = m_meta.inputSize.value_or(224);
    if (auto t = d->module.type()->name()) m_typeName = t->name();
    prepare(source);
}

ScriptedNet::ScriptedNet(std::unique_ptr<Impl> impl, const ScriptedNet& from)
    : d(std::move(impl)),
      m_fileMeta(from.m_fileMeta),
      m_meta(from.m_meta),
      m_inputSize(from.m_inputSize),
      m_typeName(from.m_typeName),
      m_device(from.m_device),
      m_source(from.m_source) {
    prepare(m_source);
}

void ScriptedNet::prepare(const std::string& source) {
    m_source = source;
    const c10::Device device = m_device;
    auto method = d->module.find_method("forward");
    if (!method) throw ScriptModelError("'" + source + "' has no forward method");
    // One image batch in; later arguments must have defaults.
    const auto& args = method->function().getSchema().arguments();
    std::vector<std::string> required;
    for (std::size_t i = 1; i < args.size(); ++i) {
        if (i == 1) continue;
        if (args[i].default_value())
            d->extraInputs.push_back(*args[i].default_value());
        else
            required.push_back(args[i].name());
    }
    if (args.size() < 2)
        throw ScriptModelError("'" + source + "' has a forward that takes no input");
    if (!required.empty()) {
        std::string names = args[1].name();
        for (const auto& n : required) names += ", " + n;
        throw ScriptModelError("'" + source + "' has a forward that needs " +
                               std::to_string(required.size() + 1) + " inputs (" + names +
                               "); CAM Explorer passes one image batch. Wrap the model so "
                               "forward takes only the image.");
    }

    try {
        d->module.eval();
        for (auto p : d->module.parameters()) p.requires_grad_(false);
    } catch (const std::exception& e) {
        throw ScriptModelError("'" + source + "': " + errorText(e));
    }

    // The prepared graph: frozen where LibTorch can freeze it, else inlined as is.
    try {
        d->frozen = jit::freeze_module(d->module);
        d->graph = d->frozen.get_method("forward").graph()->copy();
    } catch (const std::exception&) {
        d->frozen = d->module;
        d->graph = d->module.get_method("forward").graph()->copy();
        m_notes.push_back("LibTorch could not freeze this model; its graph is read unfrozen");
    }
    try {
        jit::Inline(*d->graph);
        jit::ConstantPropagation(d->graph);
        jit::EliminateDeadCode(d->graph);
        jit::RemoveListMutation(d->graph);
        jit::RemoveTensorMutation(d->graph);
        jit::EliminateDeadCode(d->graph);
    } catch (const std::exception& e) {
        throw ScriptModelError("'" + source +
                               "' has a graph CAM Explorer cannot prepare: " + errorText(e));
    }
    if (d->graph->outputs().size() != 1)
        throw ScriptModelError("'" + source + "' has a forward graph with " +
                               std::to_string(d->graph->outputs().size()) + " outputs");

    // Module calls: maximal runs of tensor-producing top-level nodes under one module path.
    // A run's single tensor used outside it is that call's output; a module called several times
    // (a shared ReLU) is read at its last call.
    jit::Block* top = d->graph->block();
    const std::vector<jit::Node*> nodes = topNodes(d->graph);
    std::map<jit::Node*, std::size_t> index;
    for (std::size_t i = 0; i < nodes.size(); ++i) index[nodes[i]] = i;
    struct Run {
        std::size_t begin, end;
    };
    std::map<std::string, std::vector<Run>> runs;
    std::set<std::string> open;
    std::vector<std::string> paths(nodes.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        paths[i] = modulePath(nodes[i]);
        // Freezing leaves constants (the weights among them) where it made them, under their
        // module's path but ahead of everything: they say nothing about when a module runs.
        if (!paths[i].empty() && nodes[i]->kind() != c10::prim::Constant &&
            producesTensor(nodes[i]))
            for (const auto& q : prefixes(paths[i])) d->firstNode.emplace(q, i);
        if (!producesTensor(nodes[i])) continue;
        const std::vector<std::string> pre = prefixes(paths[i]);
        const std::set<std::string> mine(pre.begin(), pre.end());
        for (auto it = open.begin(); it != open.end();)
            it = mine.count(*it) ? std::next(it) : open.erase(it);
        for (const auto& q : pre) {
            if (open.count(q)) {
                runs[q].back().end = i;
            } else {
                runs[q].push_back({i, i});
                open.insert(q);
            }
        }
    }
    auto inPath = [](const std::string& path, const std::string& q) {
        return path.size() >= q.size() && path.compare(0, q.size(), q) == 0 &&
               (path.size() == q.size() || path[q.size()] == '.');
    };
    struct Candidate {
        std::string name;
        ValueRef ref;
    };
    std::vector<Candidate> candidates;
    for (const auto& [name, list] : runs) {
        for (auto r = list.rbegin(); r != list.rend(); ++r) {
            std::vector<ValueRef> exported;
            for (std::size_t i = r->begin; i <= r->end; ++i) {
                if (paths[i].empty() || !inPath(paths[i], name)) continue;
                for (std::size_t o = 0; o < nodes[i]->outputs().size(); ++o) {
                    jit::Value* v = nodes[i]->outputs()[o];
                    bool outside = false;
                    for (const auto& use : v->uses()) {
                        jit::Node* user = topLevelOf(use.user, top);
                        if (!user || user == d->graph->return_node() || !index.count(user)) {
                            outside = true;
                            break;
                        }
                        const std::size_t j = index[user];
                        // A node of no module call inside the run (a branch TorchScript
                        // left at the top level) belongs to it.
                        if (j < r->begin || j > r->end ||
                            (!paths[j].empty() && !inPath(paths[j], name))) {
                            outside = true;
                            break;
                        }
                    }
                    // Only tensors count: a module object, a flag or a string computed in a
                    // call and read after it (TorchScript's attention keeps several) is no output.
                    if (outside && v->type()->kind() == c10::TypeKind::TensorType)
                        exported.push_back({i, o});
                    else if (outside && v->type()->kind() == c10::TypeKind::TupleType)
                        exported.push_back({i, o});
                }
            }
            if (exported.size() == 1 &&
                nodes[exported[0].node]->outputs()[exported[0].output]->type()->kind() ==
                    c10::TypeKind::TensorType) {
                candidates.push_back({name, exported[0]});
                break;
            }
        }
    }

    // The CAM head: linear(flatten(pool(A))) at the graph's output.
    std::optional<ValueRef> gapInput;
    jit::Value* logitsValue = d->graph->outputs()[0];
    if (logitsValue->node()->kind() == c10::prim::TupleConstruct)
        logitsValue = logitsValue->node()->inputs().at(0);
    {
        jit::Node* n = logitsValue->node();
        jit::Value* x = nullptr;
        if (n->kind() == c10::aten::linear && n->inputs().size() >= 2) {
            if (auto w = constantTensor(n->input(1))) {
                m_classWeights = *w;
                x = n->input(0);
            }
        } else if (n->kind() == c10::aten::addmm && n->inputs().size() >= 3) {
            jit::Node* wt = n->input(2)->node();
            if (wt->kind() == c10::aten::t) {
                if (auto w = constantTensor(wt->input(0))) m_classWeights = *w;
            } else if (auto w = constantTensor(n->input(2))) {
                m_classWeights = w->t();
            }
            if (m_classWeights.defined()) x = n->input(1);
        }
        if (!x) {
            m_camReason = "the model's last operation is " + std::string(n->kind().toQualString()) +
                          ", not one linear layer";
        } else {
            for (;;) {
                jit::Node* p = x->node();
                const auto k = p->kind();
                const bool dropout =
                    (k == c10::aten::dropout || k == c10::aten::feature_dropout ||
                     k == c10::aten::alpha_dropout || k == c10::aten::dropout_ ||
                     k == c10::aten::feature_dropout_ || k == c10::aten::alpha_dropout_) &&
                    p->inputs().size() >= 3 && constantIs(p->input(2), false);
                if (dropout || k == c10::aten::flatten || k == c10::aten::view ||
                    k == c10::aten::reshape || k == c10::aten::squeeze ||
                    k == c10::aten::contiguous || k == c10::aten::detach) {
                    x = p->input(0);
                    continue;
                }
                break;
            }
            jit::Node* pool = x->node();
            jit::Value* A = nullptr;
            if (pool->kind() == c10::aten::adaptive_avg_pool2d) {
                const auto size = constantInts(pool->input(1));
                if (size &&
                    std::all_of(size->begin(), size->end(), [](int64_t s) { return s == 1; }))
                    A = pool->input(0);
            } else if (pool->kind() == c10::aten::mean && pool->inputs().size() >= 2) {
                auto dims = constantInts(pool->input(1));
                if (dims && dims->size() == 2) {
                    std::set<int64_t> s;
                    for (int64_t v : *dims) s.insert(v < 0 ? v + 4 : v);
                    if (s == std::set<int64_t>{2, 3}) A = pool->input(0);
                }
            }
            if (!A) {
                m_camReason =
                    "the linear layer does not read a global average pooling of a "
                    "spatial layer (found " +
                    std::string(pool->kind().toQualString()) + ")";
                m_classWeights = at::Tensor();
            } else if (A->node()->owningBlock() != top || !index.count(A->node())) {
                m_camReason = "the pooled layer is computed inside a branch of the graph";
                m_classWeights = at::Tensor();
            } else {
                const std::size_t ni = index[A->node()];
                std::size_t oi = 0;
                while (nodes[ni]->outputs()[oi] != A) ++oi;
                gapInput = ValueRef{ni, oi};
            }
        }
    }
    if (gapInput) {
        const bool named = std::any_of(candidates.begin(), candidates.end(),
                                       [&](const Candidate& c) { return c.ref == *gapInput; });
        if (!named) candidates.push_back({"gap_input", *gapInput});
    }

    // The probe: one pass of a fixed batch of two with every candidate output, for the shapes.
    std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
        if (!(a.ref == b.ref)) return a.ref < b.ref;
        return std::count(a.name.begin(), a.name.end(), '.') >
               std::count(b.name.begin(), b.name.end(), '.');
    });
    std::vector<ValueRef> refs;
    for (const auto& c : candidates) refs.push_back(c.ref);
    const int S = m_inputSize;
    std::vector<c10::IValue> probe;
    at::Tensor probeX;
    {
        c10::InferenceMode guard(false);
        at::NoGradGuard noGrad;
        auto gen = at::detail::createCPUGenerator(20240531);
        probeX = at::randn({2, 3, S, S}, gen, at::TensorOptions(at::kFloat)).to(device);
        try {
            probe = d->run(probeX, refs);
        } catch (const std::exception& e) {
            throw ScriptModelError("'" + source + "' fails on a batch of two 3x" +
                                   std::to_string(S) + "x" + std::to_string(S) +
                                   " images: " + errorText(e) +
                                   (m_meta.inputSize ? ""
                                                     : " (no input size in its metadata; give "
                                                       "the one it was trained at)"));
        }
    }
    const c10::IValue& out = probe.at(0);
    const at::Tensor logits = logitsOf(out);
    if (!logits.defined())
        throw ScriptModelError("'" + source + "' returns " + out.tagKind() +
                               ", with no tensor of class scores in it");
    if (!out.isTensor())
        m_notes.push_back(std::string("forward returns a ") +
                          (out.isTuple()         ? "tuple"
                           : out.isGenericDict() ? "dict"
                                                 : "list") +
                          "; its " + (out.isGenericDict() ? "\"logits\" entry" : "first tensor") +
                          ", " + shapeText(logits) + ", is used as the class scores");
    if (logits.dim() != 2 || logits.size(0) != 2 || logits.size(1) < 2)
        throw ScriptModelError("'" + source + "' outputs " + shapeText(logits) +
                               " for a batch of two images, not class scores [batch, classes]");
    m_numClasses = logits.size(1);

    // Which outputs are maps, and how to read them.
    auto makeLayer = [&](const at::Tensor& t, Impl::Layer* layer) -> bool {
        if (!t.defined() || t.dim() < 3 || t.dim() > 4 || t.size(0) != 2) return false;
        if (t.dim() == 4) {
            const int64_t d1 = t.size(1), d2 = t.size(2), d3 = t.size(3);
            const bool nchw = d2 == d3, nhwc = d1 == d2;
            if (!nchw && !nhwc) return false;
            const bool useNhwc =
                nhwc && (!nchw || (m_meta.layout == MapLayout::Nhwc && d1 == d3 && d1 == d2));
            layer->layout = useNhwc ? Layout::Nhwc : Layout::Nchw;
            if (m_meta.layout == MapLayout::Nhwc && nhwc) layer->layout = Layout::Nhwc;
            if (m_meta.layout == MapLayout::Nchw && nchw) layer->layout = Layout::Nchw;
            layer->gridH = layer->layout == Layout::Nhwc ? d1 : d2;
            layer->gridW = layer->layout == Layout::Nhwc ? d2 : d3;
            if (layer->gridH * layer->gridW < 2) return false;
            return true;
        }
        const int64_t T = t.size(1);
        int prefix = -1;
        int64_t gh = 0, gw = 0;
        if (m_meta.patchGrid) {
            gh = (*m_meta.patchGrid)[0];
            gw = (*m_meta.patchGrid)[1];
            const int64_t p = m_meta.prefixTokens.value_or(static_cast<int>(T - gh * gw));
            if (p >= 0 && p + gh * gw == T) prefix = static_cast<int>(p);
        } else {
            const int lo = m_meta.prefixTokens.value_or(0), hi = m_meta.prefixTokens.value_or(8);
            for (int p = lo; p <= hi && prefix < 0; ++p) {
                const int64_t n = T - p;
                const auto r =
                    static_cast<int64_t>(std::llround(std::sqrt(double(std::max<int64_t>(n, 0)))));
                if (n >= 4 && r * r == n) {
                    prefix = p;
                    gh = gw = r;
                }
            }
        }
        if (prefix < 0) return false;
        layer->layout = Layout::Tokens;
        layer->prefix = prefix;
        layer->gridH = gh;
        layer->gridW = gw;
        return true;
    };
    std::map<std::string, bool> composite, inContainer;
    for (const auto& sub : d->module.named_modules()) {
        bool hasChildren = false;
        for (const auto& c : sub.value.children()) {
            (void)c;
            hasChildren = true;
            break;
        }
        composite[sub.name] = hasChildren;
        const std::string type = sub.value.type()->name() ? sub.value.type()->name()->name() : "";
        if (type.find("Sequential") != std::string::npos ||
            type.find("ModuleList") != std::string::npos ||
            type.find("ModuleDict") != std::string::npos) {
            for (const auto& c : sub.value.named_children())
                inContainer[sub.name.empty() ? c.name : sub.name + "." + c.name] = true;
        }
    }
    auto addTap = [&](const Impl::Layer& layer, const at::Tensor& t) {
        TapInfo info;
        info.name = layer.name;
        info.channels = static_cast<int>(layer.layout == Layout::Nhwc     ? t.size(3)
                                         : layer.layout == Layout::Tokens ? t.size(2)
                                                                          : t.size(1));
        info.stride = static_cast<int>(std::lround(double(S) / double(layer.gridH)));
        info.block = composite[layer.name] && inContainer[layer.name];
        m_taps.push_back(info);
        d->layers.push_back(layer);
    };
    for (std::size_t k = 0; k < candidates.size(); ++k) {
        Impl::Layer layer;
        layer.name = candidates[k].name;
        layer.ref = candidates[k].ref;
        const c10::IValue& v = probe.at(k + 1);
        if (!v.isTensor() || !makeLayer(v.toTensor(), &layer)) {
            if (gapInput && candidates[k].ref == *gapInput && m_camReason.empty())
                m_camReason = "the pooled layer is not a spatial map";
            continue;
        }
        if (gapInput && candidates[k].ref == *gapInput && layer.layout == Layout::Nchw &&
            m_camTap < 0)
            m_camTap = static_cast<int>(m_taps.size());
        addTap(layer, v.toTensor());
    }
    // The export convention for models graph surgery cannot open: forward returns a dict of
    // named feature maps (torchvision's create_feature_extractor) besides the logits.
    if (out.isGenericDict()) {
        for (const auto& e : out.toGenericDict()) {
            if (!e.key().isString() || !e.value().isTensor()) continue;
            if (e.value().toTensor().is_same(logits)) continue;
            Impl::Layer layer;
            layer.name = e.key().toStringRef();
            layer.dictKey = layer.name;
            // Entries are read as N×C×H×W maps.
            if (!makeLayer(e.value().toTensor(), &layer) || layer.layout != Layout::Nchw) continue;
            addTap(layer, e.value().toTensor());
            d->layers.back().layout = Layout::DictEntry;
        }
    }
    if (m_taps.empty())
        throw ScriptModelError("'" + source +
                               "' has no layer whose output is a spatial map (N×C×H×W, N×H×W×C "
                               "or tokens on a square grid) that CAM Explorer can read");

    // CAM: the head must be what the graph says, numerically.
    if (m_camTap >= 0) {
        const at::Tensor A =
            probe
                .at(1 + static_cast<std::size_t>(
                            std::find_if(candidates.begin(), candidates.end(),
                                         [&](const Candidate& c) { return c.ref == *gapInput; }) -
                            candidates.begin()))
                .toTensor();
        const at::Tensor W = m_classWeights.to(A.device(), at::kFloat);
        bool ok = W.dim() == 2 && W.size(0) == m_numClasses && W.size(1) == A.size(1);
        if (ok) {
            const at::Tensor pooled = A.to(at::kFloat).mean({2, 3}).matmul(W.t());
            // The bias is the same for both images: compare differences between the two.
            const at::Tensor a = pooled - pooled[0],
                             b = logits.to(at::kFloat) - logits.to(at::kFloat)[0];
            const double err = (a - b).abs().max().item<double>();
            const double scale = b.abs().max().item<double>() + 1e-6;
            ok = err <= 1e-3 * scale + 1e-5;
        }
        if (!ok) {
            m_camReason = "the head after " + m_taps[static_cast<std::size_t>(m_camTap)].name +
                          " does not compute the class scores as its pooled channels times one "
                          "weight matrix";
            m_camTap = -1;
            m_classWeights = at::Tensor();
        } else {
            m_classWeights = m_classWeights.detach().to(at::kFloat).contiguous();
        }
    } else {
        m_classWeights = at::Tensor();
        if (m_camReason.empty())
            m_camReason = "the model has no global-average-pooling + linear head";
    }
    // "All blocks": the composite modules of the model's containers; where it has none (VGG),
    // the last map at each resolution.
    for (std::size_t i = 0; i < m_taps.size(); ++i)
        if (m_taps[i].block) m_blockTaps.push_back(static_cast<int>(i));
    const bool fallbackBlocks = m_blockTaps.size() < 2;
    if (fallbackBlocks) {
        m_blockTaps.clear();
        for (std::size_t i = 0; i < m_taps.size(); ++i) {
            const bool lastAtStride =
                i + 1 == m_taps.size() || m_taps[i + 1].stride != m_taps[i].stride;
            m_taps[i].block = lastAtStride;
            if (lastAtStride) m_blockTaps.push_back(static_cast<int>(i));
        }
    }
    m_defaultTap = m_camTap >= 0 ? m_camTap : lastLayerWithGradient(probeX.narrow(0, 0, 1));
    // Where blocks are the last map at each resolution, a blank one at the default's resolution
    // gives way to the default (a scripted ViT, whose blocks have no single output).
    if (fallbackBlocks)
        for (int& b : m_blockTaps) {
            const auto& def = m_taps[static_cast<std::size_t>(m_defaultTap)];
            if (b > m_defaultTap && m_taps[static_cast<std::size_t>(b)].stride == def.stride) {
                m_taps[static_cast<std::size_t>(b)].block = false;
                b = m_defaultTap;
                m_taps[static_cast<std::size_t>(b)].block = true;
            }
        }
}

int ScriptedNet::lastLayerWithGradient(const at::Tensor& x) {
    // Without a CAM head the default is the last layer whose map the class score depends on.
    // The last layers of a ViT are not: past the last attention, each token goes its own way
    // and only the class token reaches the head, so Grad-CAM there is zero everywhere (the
    // known advice is the last block's first norm, which this finds). One forward and backward
    // pass of one probe image; the backward goes down to the second-to-last block first, and
    // further only where no layer there reaches the score.
    const int last = static_cast<int>(m_taps.size()) - 1;
    const int from =
        m_blockTaps.size() >= 2 ? m_blockTaps[m_blockTaps.size() - 2] : std::max(0, last - 8);
    std::vector<int> ids;
    for (int i = 0; i <= last; ++i) ids.push_back(i);
    c10::InferenceMode guard(false);
    std::vector<bool> reaches(ids.size(), false);
    bool any = false;
    try {
        ForwardOutput f = forward(x, ids, true);
        const at::Tensor score = std::get<0>(f.logits.to(at::kFloat)[0].max(0));
        auto check = [&](int lo, int hi, bool keep) {
            std::vector<at::Tensor> inputs;
            std::vector<int> which;
            for (int k = lo; k <= hi; ++k)
                if (f.taps[static_cast<std::size_t>(k)].requires_grad()) {
                    inputs.push_back(f.taps[static_cast<std::size_t>(k)]);
                    which.push_back(k);
                }
            if (inputs.empty()) return;
            const auto g = torch::autograd::grad({score}, inputs, {}, keep, false, true);
            for (std::size_t j = 0; j < which.size(); ++j) {
                const bool r =
                    g[j].defined() && toMap(g[j], which[j]).abs().max().item<double>() > 0.0;
                reaches[static_cast<std::size_t>(which[j])] = r;
                any = any || r;
            }
        };
        check(from, last, from > 0);
        if (!any && from > 0) check(0, from - 1, false);
    } catch (const std::exception&) {
        return last;  // the probe forward already worked; a backward failure shows when explaining
    }
    int best = -1;
    for (int k = 0; k <= last; ++k)
        if (reaches[static_cast<std::size_t>(k)]) best = k;
    if (best < 0) {
        m_notes.push_back(
            "the class scores depend on none of its layers on a random image (a head with zero "
            "weights, as an untrained ViT has?): its maps will be blank");
        return last;
    }
    std::vector<std::string> flat;
    for (int k = best + 1; k <= last; ++k)
        if (m_taps[static_cast<std::size_t>(k)].block || k == last)
            flat.push_back(m_taps[static_cast<std::size_t>(k)].name);
    if (!flat.empty()) {
        std::string names;
        for (const auto& n : flat) names += (names.empty() ? "" : ", ") + n;
        m_notes.push_back("Grad-CAM of " + names +
                          " is zero everywhere: the class score reads none of its positions; "
                          "the default layer is " +
                          m_taps[static_cast<std::size_t>(best)].name);
    }
    return best;
}

ScriptedNet::~ScriptedNet() = default;

ScriptedNet::Layout ScriptedNet::layout(int tap) const {
    return d->layers.at(static_cast<std::size_t>(tap)).layout;
}

std::vector<ScriptedNet::ModuleUse> ScriptedNet::tensorModules() const {
    std::vector<ModuleUse> out;
    for (const auto& sub : d->module.named_modules()) {
        if (sub.value.named_parameters(false).size() == 0 &&
            sub.value.named_buffers(false).size() == 0)
            continue;
        ModuleUse use;
        use.path = sub.name;
        if (auto t = sub.value.type()->name()) use.typeName = t->name();
        // A module the graph never enters (MultiheadAttention reads its out_proj's weights
        // itself) runs where the nearest module above it that the graph does enter runs.
        for (std::string p = sub.name; !p.empty();) {
            auto it = d->firstNode.find(p);
            if (it != d->firstNode.end()) {
                use.firstNode = static_cast<long>(it->second);
                break;
            }
            const std::size_t dot = p.rfind('.');
            p = dot == std::string::npos ? std::string() : p.substr(0, dot);
        }
        out.push_back(std::move(use));
    }
    return out;
}

std::pair<long, long> ScriptedNet::tapSpan(int tap) const {
    const auto& layer = d->layers.at(static_cast<std::size_t>(tap));
    if (layer.layout == Layout::DictEntry) return {-1, -1};
    const long end = static_cast<long>(layer.ref.node);
    auto it = d->firstNode.find(layer.name);
    // A tap named for no module call (the CAM head's "gap_input") starts where it ends.
    const long begin = it == d->firstNode.end() ? end : static_cast<long>(it->second);
    return {std::min(begin, end), end};
}

std::vector<std::pair<std::string, at::Tensor>> ScriptedNet::namedTensors() const {
    std::vector<std::pair<std::string, at::Tensor>> out;
    for (const auto& p : d->module.named_parameters(true)) out.emplace_back(p.name, p.value);
    for (const auto& b : d->module.named_buffers(true)) out.emplace_back(b.name, b.value);
    return out;
}

std::unique_ptr<ScriptedNet> ScriptedNet::copyWith(const TensorEdit& edit) const {
    auto impl = std::make_unique<Impl>();
    try {
        impl->module = d->module.deepcopy();
    } catch (const std::exception& e) {
        throw ScriptModelError("'" + m_source + "' cannot be copied: " + errorText(e));
    }
    const std::vector<ModuleUse> uses = tensorModules();
    std::map<std::string, jit::Module> subs;
    for (const auto& sub : impl->module.named_modules()) subs.emplace(sub.name, sub.value);
    for (const ModuleUse& use : uses) {
        jit::Module sub = subs.at(use.path);
        NamedTensorList params, buffers;
        for (const auto& p : sub.named_parameters(false)) params.emplace_back(p.name, p.value);
        for (const auto& b : sub.named_buffers(false)) buffers.emplace_back(b.name, b.value);
        const NamedTensorList paramsBefore = params, buffersBefore = buffers;
        edit(use, params, buffers);
        auto apply = [&](const NamedTensorList& before, const NamedTensorList& after) {
            if (after.size() != before.size())
                throw std::logic_error("ScriptedNet::copyWith: an edit added or removed tensors");
            for (std::size_t k = 0; k < after.size(); ++k) {
                const at::Tensor& was = before[k].second;
                const at::Tensor& now = after[k].second;
                if (now.is_same(was)) continue;
                if (after[k].first != before[k].first || now.sizes() != was.sizes() ||
                    now.scalar_type() != was.scalar_type() || now.device() != was.device())
                    throw std::logic_error("ScriptedNet::copyWith: " + use.path + "." +
                                           before[k].first +
                                           " was replaced by a tensor of another kind");
                sub.setattr(before[k].first, now);
            }
        };
        apply(paramsBefore, params);
        apply(buffersBefore, buffers);
    }
    auto copy = std::unique_ptr<ScriptedNet>(new ScriptedNet(std::move(impl), *this));
    bool same = copy->m_taps.size() == m_taps.size();
    for (std::size_t i = 0; same && i < m_taps.size(); ++i)
        same = copy->m_taps[i].name == m_taps[i].name;
    if (!same)
        throw ScriptModelError("'" + m_source +
                               "' lists other layers once its parameters are changed");
    return copy;
}

at::Tensor ScriptedNet::logits(const at::Tensor& x) {
    at::NoGradGuard noGrad;
    return logitsOf(d->module.forward({x.to(m_device)})).detach();
}

ForwardOutput ScriptedNet::forward(const at::Tensor& xIn, const std::vector<int>& tapIds,
                                   bool record) {
    std::vector<ValueRef> refs;
    std::vector<int> slot(tapIds.size(), -1);
    for (std::size_t k = 0; k < tapIds.size(); ++k) {
        const auto& layer = d->layers.at(static_cast<std::size_t>(tapIds[k]));
        if (layer.layout == Layout::DictEntry) continue;
        auto it = std::find(refs.begin(), refs.end(), layer.ref);
        slot[k] = static_cast<int>(it - refs.begin());
        if (it == refs.end()) refs.push_back(layer.ref);
    }
    at::AutoGradMode grad(record);
    at::Tensor x = xIn.to(m_device);
    if (record) x = x.detach().requires_grad_(true);
    std::vector<c10::IValue> out = d->run(x, refs);
    ForwardOutput result;
    result.logits = logitsOf(out.at(0));
    for (std::size_t k = 0; k < tapIds.size(); ++k) {
        const auto& layer = d->layers.at(static_cast<std::size_t>(tapIds[k]));
        if (layer.layout == Layout::DictEntry) {
            const auto dict = out.at(0).toGenericDict();
            result.taps.push_back(dict.at(c10::IValue(layer.dictKey)).toTensor());
        } else {
            result.taps.push_back(out.at(1 + static_cast<std::size_t>(slot[k])).toTensor());
        }
    }
    return result;
}

at::Tensor ScriptedNet::toMap(const at::Tensor& raw, int tap) const {
    const auto& layer = d->layers.at(static_cast<std::size_t>(tap));
    switch (layer.layout) {
        case Layout::Nhwc:
            return raw.permute({0, 3, 1, 2});
        case Layout::Tokens: {
            const int64_t B = raw.size(0), C = raw.size(2);
            return raw.narrow(1, layer.prefix, layer.gridH * layer.gridW)
                .reshape({B, layer.gridH, layer.gridW, C})
                .permute({0, 3, 1, 2});
        }
        case Layout::Nchw:
        case Layout::DictEntry:
            break;
    }
    return raw;
}

bool looksLikeTorchScriptModel(const std::string& bytes) {
    if (bytes.size() < 4 || std::memcmp(bytes.data(), "PK\3\4", 4) != 0) return false;
    auto contains = [&](const char* needle) {
        return ::memmem(bytes.data(), bytes.size(), needle, std::strlen(needle)) != nullptr;
    };
    return contains("/constants.pkl") && contains("/code/") && !contains("camx_meta");
}

}  // namespace camx

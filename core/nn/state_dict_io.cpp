#include "nn/state_dict_io.h"

#include <ATen/ATen.h>
#include <c10/core/CPUAllocator.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <new>
#include <unordered_map>

#include "common/fs_util.h"
#include "nn/torch_zip.h"

namespace camx {

namespace {

// A minimal value model for the pickle subset that torch.save writes. Every value lives in the
// reader's arena and refers to others by raw pointer: destruction is flat whatever the nesting,
// and cycles (a list appended to itself through the memo) are harmless.
struct Value {
    enum class Kind : std::uint8_t {
        None,
        Bool,
        Int,
        Float,
        String,
        Tuple,
        List,
        Dict,
        Global,
        Storage,
        Tensor,
        Opaque,
        Mark
    };
    Kind kind = Kind::None;
    std::uint32_t depth = 1;
    std::int64_t i = 0;  // int, bool; index into the side tables for global/storage/tensor
    double f = 0;
    std::string s;              // string; global module
    std::vector<Value*> items;  // tuple, list; dict as key, value, key, value, ...
};

struct Global {
    std::string module, name;
};
struct StorageRef {
    at::Storage storage;  // the whole record, shared by every reference to it
    at::ScalarType dtype;
    std::uint64_t nbytes;  // what the pickle declares (numel * itemsize), <= the record
};

bool mulOverflows(std::int64_t a, std::int64_t b, std::int64_t* out) {
    return __builtin_mul_overflow(a, b, out);
}
bool addOverflows(std::int64_t a, std::int64_t b, std::int64_t* out) {
    return __builtin_add_overflow(a, b, out);
}

class PickleReader {
public:
    // `file`: the whole file's bytes, which `zip` describes.
    PickleReader(const std::string& file, const ZipRecord& pickle, const TorchZip& zip,
                 const JobContext& job, const StateDictLimits& limits)
        : m_p(reinterpret_cast<const unsigned char*>(file.data() + pickle.dataOffset)),
          m_end(m_p + pickle.size),
          m_fileData(file.data()),
          m_zip(zip),
          m_job(job),
          m_limits(limits),
          m_tensorByteBudget(zip.recordBytes + limits.tensorByteSlack) {}

    Value* run() {
        for (;;) {
            if ((++m_ops & 0xFFFF) == 0) m_job.throwIfCancelled();
            const unsigned char op = byte();
            switch (op) {
                case 0x80:
                    byte();
                    break;  // PROTO
                case 0x95:
                    bytes(8);
                    break;  // FRAME
                case '.':
                    return pop();  // STOP
                case '(':
                    push(make(Value::Kind::Mark));
                    break;
                case '}':
                    push(make(Value::Kind::Dict));
                    break;
                case ']':
                    push(make(Value::Kind::List));
                    break;
                case ')':
                    push(make(Value::Kind::Tuple));
                    break;
                case 'N':
                    push(make(Value::Kind::None));
                    break;
                case 0x88:
                    pushInt(Value::Kind::Bool, 1);
                    break;
                case 0x89:
                    pushInt(Value::Kind::Bool, 0);
                    break;
                case 'K':
                    pushInt(Value::Kind::Int, byte());
                    break;
                case 'M':
                    pushInt(Value::Kind::Int, static_cast<std::int64_t>(le(2)));
                    break;
                case 'J':
                    pushInt(Value::Kind::Int, static_cast<int32_t>(le(4)));
                    break;
                case 0x8a: {  // LONG1
                    const unsigned n = byte();
                    if (n > 8) fail("integer too large");
                    std::uint64_t v = le(n);
                    if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~std::uint64_t(0) << (8 * n);
                    pushInt(Value::Kind::Int, static_cast<std::int64_t>(v));
                    break;
                }
                case 'G': {  // BINFLOAT, big-endian
                    std::uint64_t v = 0;
                    for (int k = 0; k < 8; ++k) v = (v << 8) | byte();
                    double d;
                    std::memcpy(&d, &v, 8);
                    Value* x = make(Value::Kind::Float);
                    x->f = d;
                    push(x);
                    break;
                }
                case 'X':  // BINUNICODE
                case 'T':  // BINSTRING
                    pushString(le(4));
                    break;
                case 0x8c:  // SHORT_BINUNICODE
                case 'U':   // SHORT_BINSTRING
                    pushString(byte());
                    break;
                case 'c': {  // GLOBAL
                    Value* g = make(Value::Kind::Global);
                    g->i = static_cast<std::int64_t>(m_globals.size());
                    m_globals.push_back({line(), line()});
                    push(g);
                    break;
                }
                case 'q':
                    memoPut(byte());
                    break;
                case 'r':
                    memoPut(le(4));
                    break;
                case 0x94:
                    memoPut(m_memo.size());
                    break;  // MEMOIZE
                case 'h':
                    memoGet(byte());
                    break;
                case 'j':
                    memoGet(le(4));
                    break;
                case 't':
                    push(tupleOf(popToMark()));
                    break;
                case 0x85:
                case 0x86:
                case 0x87: {  // TUPLE1..3
                    const int n = op - 0x84;
                    std::vector<Value*> items(static_cast<std::size_t>(n));
                    for (int k = n - 1; k >= 0; --k) items[static_cast<std::size_t>(k)] = pop();
                    push(tupleOf(std::move(items)));
                    break;
                }
                case 'a': {  // APPEND
                    Value* v = pop();
                    addTo(top(Value::Kind::List), {v});
                    break;
                }
                case 'e': {  // APPENDS
                    auto items = popToMark();
                    addTo(top(Value::Kind::List), items);
                    break;
                }
                case 's': {  // SETITEM
                    Value* v = pop();
                    Value* k = pop();
                    addTo(top(Value::Kind::Dict), {k, v});
                    break;
                }
                case 'u': {  // SETITEMS
                    auto items = popToMark();
                    if (items.size() % 2) fail("odd number of dict items");
                    addTo(top(Value::Kind::Dict), items);
                    break;
                }
                case 'Q':  // BINPERSID
                    push(persistentLoad(pop()));
                    break;
                case 'R':     // REDUCE
                case 0x81: {  // NEWOBJ
                    Value* args = pop();
                    Value* fn = pop();
                    push(reduce(fn, args));
                    break;
                }
                case '0':  // POP
                    pop();
                    break;
                case '1':  // POP_MARK
                    popToMark();
                    break;
                case 'b': {  // BUILD: the state only carries metadata (e.g. _metadata) here
                    pop();
                    if (m_stack.empty()) fail("BUILD on an empty stack");
                    break;
                }
                default: {
                    char buf[64];
                    std::snprintf(buf, sizeof buf, "unsupported pickle opcode 0x%02x", op);
                    fail(buf);
                }
            }
        }
    }

    // The tensors of `root` (a dict), nested dicts flattened with '.'. Shared sub-dicts (through
    // the memo) are visited once per reference, so the visits are bounded, not the dicts.
    NamedTensors flatten(Value* root) {
        NamedTensors out;
        flattenInto(root, "", out, 0);
        return out;
    }

private:
    [[noreturn]] void fail(const std::string& why) const { throw WeightsError(why); }
    unsigned char byte() {
        if (m_p >= m_end) fail("pickle data ends early");
        return *m_p++;
    }
    const unsigned char* bytes(std::size_t n) {
        if (static_cast<std::size_t>(m_end - m_p) < n) fail("pickle data ends early");
        const unsigned char* p = m_p;
        m_p += n;
        return p;
    }
    std::uint64_t le(unsigned n) {
        const unsigned char* p = bytes(n);
        std::uint64_t v = 0;
        for (unsigned k = 0; k < n; ++k) v |= std::uint64_t(p[k]) << (8 * k);
        return v;
    }
    std::string line() {
        const unsigned char* start = m_p;
        while (m_p < m_end && *m_p != '\n') ++m_p;
        if (m_p >= m_end) fail("pickle data ends early");
        std::string s(reinterpret_cast<const char*>(start), static_cast<std::size_t>(m_p - start));
        ++m_p;
        return s;
    }
    Value* make(Value::Kind k) {
        if (m_values.size() >= m_limits.maxValues)
            fail("too many pickle values (more than " + std::to_string(m_limits.maxValues) + ")");
        m_values.emplace_back();
        Value* v = &m_values.back();
        v->kind = k;
        return v;
    }
    void link(std::size_t n) {
        m_links += n;
        if (m_links > m_limits.maxLinks) fail("too many references between pickle values");
    }
    void deepen(Value* container, const Value* child) {
        container->depth = std::max(container->depth, child->depth + 1);
        if (container->depth > m_limits.maxDepth) fail("pickle values nested too deeply");
    }
    Value* tupleOf(std::vector<Value*> items) {
        Value* t = make(Value::Kind::Tuple);
        link(items.size());
        for (Value* x : items) deepen(t, x);
        t->items = std::move(items);
        return t;
    }
    void addTo(Value* container, const std::vector<Value*>& items) {
        link(items.size());
        for (Value* x : items) deepen(container, x);
        container->items.insert(container->items.end(), items.begin(), items.end());
    }
    void push(Value* v) {
        if (m_stack.size() >= m_limits.maxStack) fail("pickle stack too deep");
        m_stack.push_back(v);
    }
    Value* pop() {
        if (m_stack.empty()) fail("pickle stack underflow");
        Value* v = m_stack.back();
        m_stack.pop_back();
        return v;
    }
    Value* top(Value::Kind k) {
        if (m_stack.empty() || m_stack.back()->kind != k)
            fail("pickle item added to a non-container");
        return m_stack.back();
    }
    void pushInt(Value::Kind kind, std::int64_t i) {
        Value* v = make(kind);
        v->i = i;
        push(v);
    }
    void pushString(std::uint64_t n) {
        if (n > static_cast<std::uint64_t>(m_end - m_p)) fail("string runs past the end");
        const unsigned char* p = bytes(static_cast<std::size_t>(n));
        Value* v = make(Value::Kind::String);
        v->s.assign(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
        push(v);
    }
    void memoPut(std::uint64_t idx) {
        if (m_stack.empty()) fail("memo of an empty stack");
        if (idx >= m_limits.maxMemo) fail("memo index out of range");
        if (m_stack.back()->kind == Value::Kind::Mark) fail("memo of a mark");
        m_memo[idx] = m_stack.back();
    }
    void memoGet(std::uint64_t idx) {
        auto it = m_memo.find(idx);
        if (it == m_memo.end()) fail("memo entry missing");
        push(it->second);
    }
    std::vector<Value*> popToMark() {
        std::vector<Value*> items;
        for (;;) {
            Value* v = pop();
            if (v->kind == Value::Kind::Mark) break;
            items.push_back(v);
        }
        std::reverse(items.begin(), items.end());
        return items;
    }

    static std::int64_t asInt(const Value* v) {
        if (v->kind != Value::Kind::Int) throw WeightsError("expected an integer in tensor data");
        return v->i;
    }
    static std::vector<std::int64_t> asInts(const Value* v) {
        if (v->kind != Value::Kind::Tuple && v->kind != Value::Kind::List)
            throw WeightsError("expected a shape tuple in tensor data");
        if (v->items.size() > 64) throw WeightsError("tensor has too many dimensions");
        std::vector<std::int64_t> out;
        for (const Value* x : v->items) out.push_back(asInt(x));
        return out;
    }

    Value* persistentLoad(const Value* pid) {
        // ('storage', <StorageType global>, key, location, numel)
        if (pid->kind != Value::Kind::Tuple || pid->items.size() < 5 ||
            pid->items[0]->kind != Value::Kind::String || pid->items[0]->s != "storage" ||
            pid->items[1]->kind != Value::Kind::Global ||
            pid->items[2]->kind != Value::Kind::String)
            fail("unknown persistent id (not a tensor storage)");
        const std::string& type = m_globals[static_cast<std::size_t>(pid->items[1]->i)].name;
        static const std::map<std::string, at::ScalarType> kTypes = {
            {"FloatStorage", at::kFloat}, {"DoubleStorage", at::kDouble},
            {"HalfStorage", at::kHalf},   {"BFloat16Storage", at::kBFloat16},
            {"LongStorage", at::kLong},   {"IntStorage", at::kInt},
            {"ShortStorage", at::kShort}, {"CharStorage", at::kChar},
            {"ByteStorage", at::kByte},   {"BoolStorage", at::kBool}};
        auto it = kTypes.find(type);
        if (it == kTypes.end()) fail("unsupported storage type " + type);
        const std::int64_t numel = asInt(pid->items[4]);
        const std::string& key = pid->items[2]->s;
        if (numel < 0) fail("negative storage size");
        const std::uint64_t itemsize = c10::elementSize(it->second);
        StorageRef ref{at::Storage(c10::Storage::use_byte_size_t(), 0,
                                   c10::GetDefaultCPUAllocator(), /*resizable=*/false),
                       it->second, 0};
        if (numel > 0) {
            const ZipRecord* record = key.size() <= 256 ? m_zip.find("data/" + key) : nullptr;
            if (!record) fail("tensor record 'data/" + key.substr(0, 64) + "' is missing");
            if (static_cast<std::uint64_t>(numel) > record->size / itemsize)
                fail("tensor record 'data/" + key + "' is shorter than its storage");
            ref.nbytes = static_cast<std::uint64_t>(numel) * itemsize;
            ref.storage = recordStorage(*record);
        }
        Value* v = make(Value::Kind::Storage);
        v->i = static_cast<std::int64_t>(m_storages.size());
        m_storages.push_back(std::move(ref));
        return v;
    }

    // Each record's bytes are copied once, however many storages refer to it.
    at::Storage recordStorage(const ZipRecord& r) {
        auto it = m_records.find(r.name);
        if (it != m_records.end()) return it->second;
        at::Storage s(c10::Storage::use_byte_size_t(), static_cast<std::size_t>(r.size),
                      c10::GetDefaultCPUAllocator(), /*resizable=*/false);
        if (r.size)
            std::memcpy(s.data(), m_fileData + r.dataOffset, static_cast<std::size_t>(r.size));
        m_records.emplace(r.name, s);
        return s;
    }

    Value* rebuildTensor(const Value* args) {
        if (args->kind != Value::Kind::Tuple || args->items.size() < 4 ||
            args->items[0]->kind != Value::Kind::Storage)
            fail("malformed tensor");
        const StorageRef& st = m_storages[static_cast<std::size_t>(args->items[0]->i)];
        const std::int64_t offset = asInt(args->items[1]);
        const auto size = asInts(args->items[2]);
        const auto stride = asInts(args->items[3]);
        if (size.size() != stride.size()) fail("tensor shape and stride disagree");
        const std::int64_t itemsize = static_cast<std::int64_t>(c10::elementSize(st.dtype));
        const std::int64_t capacity = static_cast<std::int64_t>(st.nbytes) / itemsize;
        // The number of elements, and the last one the view reaches: both within the storage,
        // so zero or overlapping strides cannot make a small file expand into a huge tensor.
        std::int64_t numel = 1, last = offset;
        bool empty = false;
        for (std::size_t k = 0; k < size.size(); ++k) {
            if (size[k] < 0 || stride[k] < 0) fail("negative tensor size or stride");
            if (size[k] == 0) empty = true;
        }
        if (offset < 0 || offset > capacity) fail("tensor offset lies outside its storage");
        if (!empty) {
            for (std::size_t k = 0; k < size.size(); ++k) {
                std::int64_t reach = 0;
                if (mulOverflows(numel, size[k], &numel) || numel > capacity)
                    fail("tensor has more elements than its storage holds");
                if (mulOverflows(size[k] - 1, stride[k], &reach) ||
                    addOverflows(last, reach, &last))
                    fail("tensor view reaches past its storage");
            }
            if (last >= capacity) fail("tensor view reaches past its storage");
        } else {
            numel = 0;
        }
        const std::uint64_t nbytes = static_cast<std::uint64_t>(numel * itemsize);
        m_tensorBytes += nbytes;
        if (m_tensorBytes > m_tensorByteBudget)
            fail("its tensors claim more bytes (over " + std::to_string(m_tensorBytes) +
                 ") than the file holds (" + std::to_string(m_zip.recordBytes) + ")");
        Value* v = make(Value::Kind::Tensor);
        v->i = static_cast<std::int64_t>(m_tensors.size());
        m_tensors.push_back(at::empty({0}, at::TensorOptions().dtype(st.dtype))
                                .set_(st.storage, offset, size, stride)
                                .clone());
        return v;
    }

    Value* reduce(const Value* fn, const Value* args) {
        // Nothing is ever called: known constructors are rebuilt by hand, anything else (say,
        // os.system) becomes an opaque value that no tensor can come from.
        if (fn->kind != Value::Kind::Global) fail("REDUCE of something that is not a global");
        const Global& g = m_globals[static_cast<std::size_t>(fn->i)];
        if (g.module == "collections" && g.name == "OrderedDict") return make(Value::Kind::Dict);
        if (g.module == "torch._utils" && g.name == "_rebuild_tensor_v2")
            return rebuildTensor(args);
        if (g.module == "torch._utils" && g.name == "_rebuild_parameter") {
            if (args->kind != Value::Kind::Tuple || args->items.empty() ||
                args->items[0]->kind != Value::Kind::Tensor)
                fail("malformed parameter");
            return args->items[0];
        }
        return make(Value::Kind::Opaque);
    }

    void flattenInto(const Value* dict, const std::string& prefix, NamedTensors& out, int depth) {
        if (depth > 8) fail("dictionaries nested too deeply");
        const auto& it = dict->items;
        for (std::size_t e = 0; e + 1 < it.size(); e += 2) {
            if (++m_visits > m_limits.maxVisits)
                fail("too many dictionary entries to visit (more than " +
                     std::to_string(m_limits.maxVisits) + "; shared sub-dictionaries?)");
            if ((m_visits & 0xFFFF) == 0) m_job.throwIfCancelled();
            const Value* k = it[e];
            const Value* v = it[e + 1];
            if (k->kind != Value::Kind::String) continue;
            if (v->kind != Value::Kind::Tensor && v->kind != Value::Kind::Dict) continue;
            if (prefix.size() + k->s.size() > 4096) fail("a tensor name is too long");
            const std::string name = prefix.empty() ? k->s : prefix + "." + k->s;
            if (v->kind == Value::Kind::Tensor) {
                if (out.size() >= m_limits.maxTensors)
                    fail("too many tensors (more than " + std::to_string(m_limits.maxTensors) +
                         ")");
                out.emplace_back(name, m_tensors[static_cast<std::size_t>(v->i)]);
            } else {
                flattenInto(v, name, out, depth + 1);
            }
        }
    }

    const unsigned char* m_p;
    const unsigned char* m_end;
    const char* m_fileData;
    const TorchZip& m_zip;
    const JobContext& m_job;
    const StateDictLimits& m_limits;
    std::uint64_t m_tensorByteBudget;
    std::uint64_t m_tensorBytes = 0, m_links = 0, m_ops = 0, m_visits = 0;
    std::deque<Value> m_values;  // the arena
    std::vector<Global> m_globals;
    std::vector<StorageRef> m_storages;
    std::vector<at::Tensor> m_tensors;
    std::unordered_map<std::string, at::Storage> m_records;
    std::vector<Value*> m_stack;
    std::unordered_map<std::uint64_t, Value*> m_memo;
};

NamedTensors readChecked(const std::string& bytes, const std::string& name, const JobContext& job,
                         const StateDictLimits& limits) {
    if (!looksLikeZip(bytes.data(), bytes.size())) {
        const bool legacy = bytes.size() > 2 && static_cast<unsigned char>(bytes[0]) == 0x80;
        throw WeightsError("'" + name + "' is not a torch.save zip file" +
                           (legacy ? std::string(" (it looks like the legacy pre-1.6 format; "
                                                 "re-save it with a current PyTorch)")
                                   : std::string(" (truncated or corrupt?)")));
    }
    TorchZip zip;
    try {
        zip = validateTorchZip(bytes.data(), bytes.size(), name);
    } catch (const TorchZipError& e) {
        throw WeightsError(e.what());
    }
    const ZipRecord* pkl = zip.find("data.pkl");
    if (!pkl)
        throw WeightsError("'" + name +
                           "' is a zip file but not one written by torch.save (no data.pkl)");
    if (zip.find("constants.pkl"))
        throw WeightsError("'" + name +
                           "' is a TorchScript archive (a CAM Explorer checkpoint?), not a "
                           "torch.save state dict");
    if (pkl->size > limits.maxPickleBytes)
        throw WeightsError("'" + name + "' has a pickle of " + std::to_string(pkl->size) +
                           " bytes, more than the " + std::to_string(limits.maxPickleBytes) +
                           " a state dict needs");
    try {
        PickleReader reader(bytes, *pkl, zip, job, limits);
        Value* root = reader.run();
        if (root->kind != Value::Kind::Dict)
            throw WeightsError("it holds a pickled object, not a dict of tensors");
        NamedTensors out = reader.flatten(root);
        if (out.empty()) throw WeightsError("it holds no tensors");
        return out;
    } catch (const Cancelled&) {
        throw;
    } catch (const WeightsError& e) {
        throw WeightsError("cannot read weights from '" + name + "': " + e.what());
    } catch (const c10::Error& e) {
        throw WeightsError("cannot read weights from '" + name +
                           "': " + e.what_without_backtrace());
    } catch (const std::bad_alloc&) {
        throw WeightsError("cannot read weights from '" + name + "': out of memory");
    } catch (const std::exception& e) {
        throw WeightsError("cannot read weights from '" + name + "': " + e.what());
    }
}

}  // namespace

NamedTensors readTorchStateDict(const std::string& bytes, const std::string& name,
                                const JobContext& job, const StateDictLimits& limits) {
    return readChecked(bytes, name, job, limits);
}

NamedTensors readTorchStateDict(const std::filesystem::path& path, const JobContext& job) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw WeightsError("'" + path.string() + "' is a folder, not a weights file");
    if (!std::filesystem::is_regular_file(path, ec))
        throw WeightsError("weights file '" + path.string() + "' does not exist");
    std::string bytes;
    try {
        bytes = readFile(path);
    } catch (const std::bad_alloc&) {
        throw WeightsError("cannot read weights file '" + path.string() + "': out of memory");
    } catch (const std::exception& e) {
        throw WeightsError(std::string("cannot read weights file: ") + e.what());
    }
    return readChecked(bytes, path.string(), job, StateDictLimits{});
}

}  // namespace camx

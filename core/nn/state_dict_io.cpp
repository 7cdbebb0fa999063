#include "nn/state_dict_io.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <caffe2/serialize/in_memory_adapter.h>
#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <variant>

namespace camx {

namespace {

// A minimal value model for the pickle subset that torch.save writes.
struct Value;
using ValuePtr = std::shared_ptr<Value>;
struct Global {
    std::string module, name;
};
struct Storage {
    at::Storage storage;
    at::ScalarType dtype;
};
struct Mark {};
struct Value {
    enum class Kind {
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
    bool b = false;
    int64_t i = 0;
    double f = 0;
    std::string s;
    std::vector<ValuePtr> items;                         // tuple, list
    std::vector<std::pair<ValuePtr, ValuePtr>> entries;  // dict
    Global global;
    Storage storage;
    at::Tensor tensor;
};

ValuePtr make(Value::Kind k) {
    auto v = std::make_shared<Value>();
    v->kind = k;
    return v;
}

class PickleReader {
public:
    PickleReader(const char* data, std::size_t size, caffe2::serialize::PyTorchStreamReader& zip)
        : m_p(reinterpret_cast<const unsigned char*>(data)), m_end(m_p + size), m_zip(zip) {}

    ValuePtr run() {
        for (;;) {
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
                    pushBool(true);
                    break;
                case 0x89:
                    pushBool(false);
                    break;
                case 'K':
                    pushInt(byte());
                    break;
                case 'M':
                    pushInt(le(2));
                    break;
                case 'J':
                    pushInt(static_cast<int32_t>(le(4)));
                    break;
                case 0x8a: {  // LONG1
                    const unsigned n = byte();
                    if (n > 8) fail("integer too large");
                    uint64_t v = le(n);
                    if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t(0) << (8 * n);
                    pushInt(static_cast<int64_t>(v));
                    break;
                }
                case 'G': {  // BINFLOAT, big-endian
                    uint64_t v = 0;
                    for (int k = 0; k < 8; ++k) v = (v << 8) | byte();
                    double d;
                    std::memcpy(&d, &v, 8);
                    auto x = make(Value::Kind::Float);
                    x->f = d;
                    push(x);
                    break;
                }
                case 'X':
                    pushString(le(4));
                    break;  // BINUNICODE
                case 0x8c:
                    pushString(byte());
                    break;  // SHORT_BINUNICODE
                case 'T':
                    pushString(le(4));
                    break;  // BINSTRING
                case 'U':
                    pushString(byte());
                    break;   // SHORT_BINSTRING
                case 'c': {  // GLOBAL
                    auto g = make(Value::Kind::Global);
                    g->global.module = line();
                    g->global.name = line();
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
                case 't': {
                    auto t = make(Value::Kind::Tuple);
                    t->items = popToMark();
                    push(t);
                    break;
                }
                case 0x85:
                    tupleOf(1);
                    break;
                case 0x86:
                    tupleOf(2);
                    break;
                case 0x87:
                    tupleOf(3);
                    break;
                case 'a': {
                    auto v = pop();
                    top(Value::Kind::List)->items.push_back(v);
                    break;
                }
                case 'e': {
                    auto items = popToMark();
                    auto list = top(Value::Kind::List);
                    list->items.insert(list->items.end(), items.begin(), items.end());
                    break;
                }
                case 's': {
                    auto v = pop();
                    auto k = pop();
                    top(Value::Kind::Dict)->entries.emplace_back(k, v);
                    break;
                }
                case 'u': {
                    auto items = popToMark();
                    if (items.size() % 2) fail("odd number of dict items");
                    auto d = top(Value::Kind::Dict);
                    for (std::size_t k = 0; k < items.size(); k += 2)
                        d->entries.emplace_back(items[k], items[k + 1]);
                    break;
                }
                case 'Q':
                    push(persistentLoad(pop()));
                    break;   // BINPERSID
                case 'R': {  // REDUCE
                    auto args = pop();
                    auto fn = pop();
                    push(reduce(fn, args));
                    break;
                }
                case 0x81: {  // NEWOBJ
                    auto args = pop();
                    auto cls = pop();
                    push(reduce(cls, args));
                    break;
                }
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
    uint64_t le(unsigned n) {
        const unsigned char* p = bytes(n);
        uint64_t v = 0;
        for (unsigned k = 0; k < n; ++k) v |= uint64_t(p[k]) << (8 * k);
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
    void push(ValuePtr v) {
        if (m_stack.size() > 100000) fail("pickle stack too deep");
        m_stack.push_back(std::move(v));
    }
    ValuePtr pop() {
        if (m_stack.empty()) fail("pickle stack underflow");
        auto v = m_stack.back();
        m_stack.pop_back();
        return v;
    }
    ValuePtr top(Value::Kind k) {
        if (m_stack.empty() || m_stack.back()->kind != k)
            fail("pickle item added to a non-container");
        return m_stack.back();
    }
    void pushBool(bool b) {
        auto v = make(Value::Kind::Bool);
        v->b = b;
        push(v);
    }
    void pushInt(int64_t i) {
        auto v = make(Value::Kind::Int);
        v->i = i;
        push(v);
    }
    void pushString(uint64_t n) {
        if (n > static_cast<uint64_t>(m_end - m_p)) fail("string runs past the end");
        const unsigned char* p = bytes(static_cast<std::size_t>(n));
        auto v = make(Value::Kind::String);
        v->s.assign(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
        push(v);
    }
    void memoPut(uint64_t idx) {
        if (m_stack.empty()) fail("memo of an empty stack");
        if (idx > 10000000) fail("memo index out of range");
        m_memo[idx] = m_stack.back();
    }
    void memoGet(uint64_t idx) {
        auto it = m_memo.find(idx);
        if (it == m_memo.end()) fail("memo entry missing");
        push(it->second);
    }
    std::vector<ValuePtr> popToMark() {
        std::vector<ValuePtr> items;
        for (;;) {
            auto v = pop();
            if (v->kind == Value::Kind::Mark) break;
            items.push_back(v);
        }
        std::reverse(items.begin(), items.end());
        return items;
    }
    void tupleOf(int n) {
        auto t = make(Value::Kind::Tuple);
        for (int k = 0; k < n; ++k) t->items.push_back(pop());
        std::reverse(t->items.begin(), t->items.end());
        push(t);
    }

    static int64_t asInt(const ValuePtr& v) {
        if (v->kind != Value::Kind::Int) throw WeightsError("expected an integer in tensor data");
        return v->i;
    }
    static std::vector<int64_t> asInts(const ValuePtr& v) {
        if (v->kind != Value::Kind::Tuple && v->kind != Value::Kind::List)
            throw WeightsError("expected a shape tuple in tensor data");
        std::vector<int64_t> out;
        for (auto& x : v->items) out.push_back(asInt(x));
        return out;
    }

    ValuePtr persistentLoad(const ValuePtr& pid) {
        // ('storage', <StorageType global>, key, location, numel)
        if (pid->kind != Value::Kind::Tuple || pid->items.size() < 5 ||
            pid->items[0]->kind != Value::Kind::String || pid->items[0]->s != "storage" ||
            pid->items[1]->kind != Value::Kind::Global ||
            pid->items[2]->kind != Value::Kind::String)
            fail("unknown persistent id (not a tensor storage)");
        const std::string& type = pid->items[1]->global.name;
        static const std::map<std::string, at::ScalarType> kTypes = {
            {"FloatStorage", at::kFloat}, {"DoubleStorage", at::kDouble},
            {"HalfStorage", at::kHalf},   {"BFloat16Storage", at::kBFloat16},
            {"LongStorage", at::kLong},   {"IntStorage", at::kInt},
            {"ShortStorage", at::kShort}, {"CharStorage", at::kChar},
            {"ByteStorage", at::kByte},   {"BoolStorage", at::kBool}};
        auto it = kTypes.find(type);
        if (it == kTypes.end()) fail("unsupported storage type " + type);
        const int64_t numel = asInt(pid->items[4]);
        const std::string record = "data/" + pid->items[2]->s;
        if (numel < 0) fail("negative storage size");
        const std::size_t itemsize = c10::elementSize(it->second);
        at::DataPtr ptr;
        std::size_t size = 0;
        if (numel > 0) {
            if (!m_zip.hasRecord(record)) fail("tensor record '" + record + "' is missing");
            std::tie(ptr, size) = m_zip.getRecord(record);
            if (size < static_cast<std::size_t>(numel) * itemsize)
                fail("tensor record '" + record + "' is shorter than its storage");
        }
        auto v = make(Value::Kind::Storage);
        v->storage.storage = at::Storage(c10::Storage::use_byte_size_t(), numel * itemsize,
                                         std::move(ptr), nullptr, false);
        v->storage.dtype = it->second;
        return v;
    }

    ValuePtr reduce(const ValuePtr& fn, const ValuePtr& args) {
        if (fn->kind != Value::Kind::Global) fail("REDUCE of something that is not a global");
        const Global& g = fn->global;
        if (g.module == "collections" && g.name == "OrderedDict") return make(Value::Kind::Dict);
        if (g.module == "torch._utils" && g.name == "_rebuild_tensor_v2") {
            if (args->kind != Value::Kind::Tuple || args->items.size() < 4 ||
                args->items[0]->kind != Value::Kind::Storage)
                fail("malformed tensor");
            const Storage& st = args->items[0]->storage;
            const int64_t offset = asInt(args->items[1]);
            const auto size = asInts(args->items[2]);
            const auto stride = asInts(args->items[3]);
            if (size.size() != stride.size()) fail("tensor shape and stride disagree");
            // Refuse views that reach past their storage instead of reading wild memory.
            int64_t last = offset;
            for (std::size_t k = 0; k < size.size(); ++k) {
                if (size[k] < 0 || stride[k] < 0) fail("negative tensor size or stride");
                if (size[k] == 0) {
                    last = -1;
                    break;
                }
                last += (size[k] - 1) * stride[k];
            }
            const int64_t capacity =
                static_cast<int64_t>(st.storage.nbytes() / c10::elementSize(st.dtype));
            if (offset < 0 || last >= capacity) fail("tensor view reaches past its storage");
            auto v = make(Value::Kind::Tensor);
            v->tensor = at::empty({0}, at::TensorOptions().dtype(st.dtype))
                            .set_(st.storage, offset, size, stride)
                            .clone();
            return v;
        }
        if (g.module == "torch._utils" && g.name == "_rebuild_parameter") {
            if (args->kind != Value::Kind::Tuple || args->items.empty() ||
                args->items[0]->kind != Value::Kind::Tensor)
                fail("malformed parameter");
            return args->items[0];
        }
        return make(Value::Kind::Opaque);
    }

    const unsigned char* m_p;
    const unsigned char* m_end;
    caffe2::serialize::PyTorchStreamReader& m_zip;
    std::vector<ValuePtr> m_stack;
    std::map<uint64_t, ValuePtr> m_memo;
};

void flatten(const ValuePtr& dict, const std::string& prefix, NamedTensors& out, int depth) {
    if (depth > 8) throw WeightsError("dictionaries nested too deeply");
    for (const auto& [k, v] : dict->entries) {
        if (k->kind != Value::Kind::String) continue;
        const std::string name = prefix.empty() ? k->s : prefix + "." + k->s;
        if (v->kind == Value::Kind::Tensor)
            out.emplace_back(name, v->tensor);
        else if (v->kind == Value::Kind::Dict)
            flatten(v, name, out, depth + 1);
    }
}

NamedTensors readFromZip(caffe2::serialize::PyTorchStreamReader& zip, const std::string& name) {
    if (!zip.hasRecord("data.pkl"))
        throw WeightsError("'" + name +
                           "' is a zip file but not one written by torch.save (no data.pkl)");
    auto [ptr, size] = zip.getRecord("data.pkl");
    try {
        PickleReader reader(static_cast<const char*>(ptr.get()), size, zip);
        ValuePtr root = reader.run();
        if (root->kind != Value::Kind::Dict)
            throw WeightsError("it holds a pickled object, not a dict of tensors");
        NamedTensors out;
        flatten(root, "", out, 0);
        if (out.empty()) throw WeightsError("it holds no tensors");
        return out;
    } catch (const WeightsError& e) {
        throw WeightsError("cannot read weights from '" + name + "': " + e.what());
    } catch (const c10::Error& e) {
        throw WeightsError("cannot read weights from '" + name +
                           "': " + e.what_without_backtrace());
    }
}

}  // namespace

NamedTensors readTorchStateDict(const std::string& bytes, const std::string& name) {
    std::unique_ptr<caffe2::serialize::PyTorchStreamReader> zip;
    try {
        auto adapter =
            std::make_shared<caffe2::serialize::MemoryReadAdapter>(bytes.data(), bytes.size());
        zip = std::make_unique<caffe2::serialize::PyTorchStreamReader>(adapter);
    } catch (const c10::Error& e) {
        const bool legacy = bytes.size() > 2 && static_cast<unsigned char>(bytes[0]) == 0x80;
        throw WeightsError("'" + name + "' is not a torch.save zip file" +
                           (legacy ? std::string(" (it looks like the legacy pre-1.6 format; "
                                                 "re-save it with a current PyTorch)")
                                   : std::string(" (truncated or corrupt?)")));
    }
    return readFromZip(*zip, name);
}

NamedTensors readTorchStateDict(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw WeightsError("cannot open weights file '" + path.string() + "'");
    std::ostringstream ss;
    ss << in.rdbuf();
    return readTorchStateDict(ss.str(), path.string());
}

}  // namespace camx

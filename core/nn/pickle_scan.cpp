#include "nn/pickle_scan.h"

#include <caffe2/serialize/in_memory_adapter.h>
#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/versions.h>

#include <c10/util/Exception.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

namespace camx {

namespace {

// Pickle opcodes (pickletools' table), only those TorchScript's pickler writes.
enum Op : unsigned char {
    kMark = '(',
    kStop = '.',
    kBinInt = 'J',
    kBinInt1 = 'K',
    kBinInt2 = 'M',
    kNone = 'N',
    kBinPersId = 'Q',
    kReduce = 'R',
    kBinUnicode = 'X',
    kEmptyList = ']',
    kAppends = 'e',
    kBuild = 'b',
    kGlobal = 'c',
    kBinFloat = 'G',
    kBinGet = 'h',
    kLongBinGet = 'j',
    kEmptyTuple = ')',
    kBinPut = 'q',
    kLongBinPut = 'r',
    kTuple = 't',
    kSetItems = 'u',
    kEmptyDict = '}',
    kProto = 0x80,
    kNewObj = 0x81,
    kTuple1 = 0x85,
    kTuple2 = 0x86,
    kTuple3 = 0x87,
    kNewTrue = 0x88,
    kNewFalse = 0x89,
    kLong1 = 0x8a,
};

// What the scan knows of a value: enough to check the shapes LibTorch's unpickler assumes
// (BINPERSID's tuple, _rebuild_tensor_v2's arguments, what NEWOBJ/BUILD/SETITEMS apply to).
enum class Kind {
    Other,
    Int,
    Float,
    Bool,
    Str,
    Tuple,
    List,
    Dict,
    Global,
    Object,
    Storage,
    Tensor
};

struct Value {
    Kind kind = Kind::Other;
    std::string text;                // Str: the string; Global: "module name"
    std::int64_t number = 0;         // Int; Storage: its element count
    std::vector<std::size_t> items;  // Tuple, List; Dict: key, value...: indices into the arena
};

const char* kindName(Kind k) {
    switch (k) {
        case Kind::Int:
            return "an int";
        case Kind::Float:
            return "a float";
        case Kind::Bool:
            return "a bool";
        case Kind::Str:
            return "a string";
        case Kind::Tuple:
            return "a tuple";
        case Kind::List:
            return "a list";
        case Kind::Dict:
            return "a dict";
        case Kind::Global:
            return "a global";
        case Kind::Object:
            return "an object";
        case Kind::Storage:
            return "a storage";
        case Kind::Tensor:
            return "a tensor";
        default:
            return "a value";
    }
}

// Element sizes of the storage types LibTorch's unpickler maps to scalar types.
std::size_t storageElementSize(const std::string& name) {
    static const std::pair<const char*, std::size_t> kTypes[] = {
        {"FloatStorage", 4}, {"DoubleStorage", 8}, {"HalfStorage", 2},  {"BFloat16Storage", 2},
        {"LongStorage", 8},  {"IntStorage", 4},    {"ShortStorage", 2}, {"CharStorage", 1},
        {"ByteStorage", 1},  {"BoolStorage", 1}};
    for (const auto& [n, s] : kTypes)
        if (name == n) return s;
    return 0;
}

bool allDigits(const std::string& s, std::size_t maxLength) {
    if (s.empty() || s.size() > maxLength) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

bool isIdentifier(const std::string& s) {
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    return true;
}

bool endsWith(const std::string& s, const char* suffix) {
    const std::size_t n = std::strlen(suffix);
    return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// "'<where>' is not a readable checkpoint" or "... TorchScript model": how every message starts.
std::string notReadable(const std::string& where, bool user) {
    return "'" + where + "' is not a readable " + (user ? "TorchScript model" : "checkpoint");
}

// A user model's class qualifier, "__torch__" or "__torch__.<identifier>(.<identifier>)*" (a
// mangled one ends in ".___torch_mangle_<digits>"), -> the code record LibTorch's importer reads
// for it: dots become folders ("code/__torch__/torchvision/models/densenet.py",
// "code/__torch__/torch/nn/modules/conv/___torch_mangle_7.py"); nullopt for anything else.
std::optional<std::string> userCodeRecordOf(const std::string& qualifier) {
    std::string path = "code";
    std::size_t at = 0;
    for (bool first = true;; first = false) {
        const std::size_t dot = qualifier.find('.', at);
        const std::string part = qualifier.substr(at, dot == std::string::npos ? dot : dot - at);
        if (first ? part != "__torch__" : !isIdentifier(part)) return std::nullopt;
        path += "/" + part;
        if (dot == std::string::npos) break;
        at = dot + 1;
    }
    return path + ".py";
}

// A name the user profile's code or pickles use, to be defined in code record `record`.
struct Reference {
    std::string from;    // the record that uses it (full name), for messages
    std::string what;    // the name as it appears ("__torch__.a.b Name" or "__torch__.a.b.Name")
    std::string record;  // "code/__torch__/a/b.py"
    std::string name;    // "Name"
    bool classOnly;      // a GLOBAL: a Module class
};

// The names a user model's pickles and code use, each once (its first use, for messages), by
// (code record, name, a GLOBAL).
using References = std::map<std::tuple<std::string, std::string, bool>, Reference>;

// What each code record of a user model defines at its top level, by code record: Module
// classes, and the other names code may use (functions, NamedTuple classes).
struct Definitions {
    std::map<std::string, std::set<std::string>> modules, others;
    std::size_t count = 0;
};

// At most this many distinct names used, and names defined, per archive (a model has a few
// thousand): both are kept until all code records are read.
constexpr std::size_t kMaxNames = 100000;

// The plain types a restore_type_tag may name, and the kind of value each holds.
std::optional<Kind> plainTypeKind(const std::string& name) {
    if (name == "int") return Kind::Int;
    if (name == "float") return Kind::Float;
    if (name == "bool") return Kind::Bool;
    if (name == "str") return Kind::Str;
    if (name == "Tensor") return Kind::Tensor;
    return std::nullopt;
}

// "__torch__" or "__torch__.___torch_mangle_<digits>" -> the code record that defines its classes
// ("code/__torch__.py", "code/__torch__/___torch_mangle_7.py"); nullopt for any other qualifier.
std::optional<std::string> codeRecordOf(const std::string& qualifier) {
    if (qualifier == "__torch__") return std::string("code/__torch__.py");
    const std::string mangle = "__torch__.___torch_mangle_";
    if (qualifier.compare(0, mangle.size(), mangle) != 0) return std::nullopt;
    if (!allDigits(qualifier.substr(mangle.size()), 9)) return std::nullopt;
    return "code/__torch__/" + qualifier.substr(std::strlen("__torch__.")) + ".py";
}

class PickleScanner {
public:
    // `refs` is null for checkpoints; for a user model it collects the classes GLOBALs name.
    PickleScanner(const unsigned char* p, std::size_t size, const TorchZip& zip,
                  const std::string& where, const std::string& record,
                  const PickleScanLimits& limits, References* refs = nullptr)
        : m_p(p),
          m_size(size),
          m_zip(zip),
          m_where(where),
          m_record(record),
          m_limits(limits),
          m_debug(endsWith(record, ".debug_pkl")),
          m_refs(refs),
          m_tensorDir(tensorDirOf(record)) {}

    void run() {
        std::size_t ops = 0;
        while (true) {
            if (m_pos >= m_size) fail("ends without STOP");
            if (++ops > m_limits.maxOpcodes)
                fail("holds more than " + std::to_string(m_limits.maxOpcodes) + " opcodes");
            m_opAt = m_pos;
            const unsigned char op = m_p[m_pos++];
            if (ops == 1 && op != kProto) fail("does not start with PROTO");
            if (op == kStop) {
                if (m_pos != m_size) fail("has bytes after STOP");
                if (m_stack.size() != 1 || !m_marks.empty())
                    fail("STOP leaves " + std::to_string(m_stack.size()) + " values and " +
                         std::to_string(m_marks.size()) + " marks");
                return;
            }
            step(op);
            if (m_stack.size() + m_marks.size() > m_limits.maxStack)
                fail("nests more than " + std::to_string(m_limits.maxStack) + " values");
        }
    }

private:
    // LibTorch reads the tensors of <archive>/data.pkl from data/, of constants.pkl from
    // constants/ (readArchiveAndTensors: the pickle's name is the folder).
    static std::string tensorDirOf(const std::string& record) {
        std::string name = record.substr(record.find('/') + 1);  // without the archive's folder
        if (!endsWith(name, ".pkl") || name.find('/') != std::string::npos) return "data/";
        return name.substr(0, name.size() - 4) + "/";
    }

    [[noreturn]] void fail(const std::string& why) const {
        throw PickleScanError(notReadable(m_where, m_refs != nullptr) + ": record '" + m_record +
                              "' " + why + " (at byte " + std::to_string(m_opAt) + ")");
    }

    std::uint64_t readLe(unsigned n, const char* what) {
        if (n > m_size - m_pos) fail(std::string("has a truncated ") + what);
        std::uint64_t v = 0;
        for (unsigned k = 0; k < n; ++k) v |= std::uint64_t(m_p[m_pos + k]) << (8 * k);
        m_pos += n;
        return v;
    }

    std::string readLine(const char* what) {
        const std::size_t room = std::min<std::size_t>(m_size - m_pos, m_limits.maxGlobalLength);
        const void* nl = std::memchr(m_p + m_pos, '\n', room);
        if (!nl) fail(std::string("has an unterminated or overlong ") + what);
        const std::size_t n = static_cast<const unsigned char*>(nl) - (m_p + m_pos);
        std::string s(reinterpret_cast<const char*>(m_p + m_pos), n);
        m_pos += n + 1;
        return s;
    }

    std::size_t push(Value v) {
        m_values.push_back(std::move(v));
        m_stack.push_back(m_values.size() - 1);
        return m_stack.back();
    }
    std::size_t pop(const char* op) {
        if (m_stack.size() <= (m_marks.empty() ? 0 : m_marks.back()))
            fail(std::string(op) + " finds too few values on the stack");
        const std::size_t v = m_stack.back();
        m_stack.pop_back();
        return v;
    }
    // The top value, which may lie below the last MARK (BINPUT), unlike what pop() takes.
    std::size_t top(const char* op) const {
        if (m_stack.empty()) fail(std::string(op) + " finds an empty stack");
        return m_stack.back();
    }
    // The values above the last MARK, which is removed.
    std::vector<std::size_t> popToMark(const char* op) {
        if (m_marks.empty()) fail(std::string(op) + " without a MARK");
        const std::size_t at = m_marks.back();
        m_marks.pop_back();
        std::vector<std::size_t> items(m_stack.begin() + static_cast<std::ptrdiff_t>(at),
                                       m_stack.end());
        m_stack.resize(at);
        return items;
    }
    void expect(std::size_t v, Kind kind, const char* what) const {
        if (m_values[v].kind != kind)
            fail(std::string(what) + " is " + kindName(m_values[v].kind) + ", not " +
                 kindName(kind));
    }

    void tuple(std::vector<std::size_t> items) {
        Value t;
        t.kind = Kind::Tuple;
        t.items = std::move(items);
        push(std::move(t));
    }

    void global() {
        const std::string module = readLine("GLOBAL module");
        const std::string name = readLine("GLOBAL name");
        const std::string full = module + " " + name;
        const bool user = m_refs != nullptr;
        bool ok = false;
        if (m_debug) {
            // Source-range records hold lists of ints only.
            ok = full == "torch.jit._pickle build_intlist";
        } else if (module == "torch") {
            ok = storageElementSize(name) != 0 || (user && name == "device");
        } else if (full == "torch._utils _rebuild_tensor_v2" || full == "collections OrderedDict") {
            ok = true;
        } else if (user && module == "torch.jit._pickle") {
            // What torch.jit.save writes for typed list and container attributes.
            ok = name == "build_intlist" || name == "build_doublelist" ||
                 name == "build_boollist" || name == "build_tensorlist" ||
                 name == "restore_type_tag";
        } else if (user) {
            // A class of the model: LibTorch compiles it from its code record when it meets
            // this GLOBAL, so that record must be there (checked on its own) and define it
            // (checked when all code records have been read).
            const auto code = userCodeRecordOf(module);
            if (code && isIdentifier(name)) {
                if (!m_zip.find(*code)) fail("names class '" + full + "' without its " + *code);
                if (m_refs->size() >= kMaxNames)
                    fail("names more than " + std::to_string(kMaxNames) + " classes and functions");
                m_refs->emplace(std::make_tuple(*code, name, true),
                                Reference{m_record, full, *code, name, true});
                ok = true;
            }
        } else if (name == "Module") {
            // A class of the archive: LibTorch compiles it from its code record when it meets
            // this GLOBAL, so that record must be there (and is checked on its own).
            const auto code = codeRecordOf(module);
            if (code && !m_zip.find(*code)) fail("names class '" + full + "' without its " + *code);
            ok = code.has_value();
        }
        if (!ok)
            fail(user ? "names a global TorchScript models do not hold ('" + full + "')"
                      : "names a global not found in CAM Explorer checkpoints ('" + full + "')");
        Value g;
        g.kind = Kind::Global;
        g.text = full;
        push(std::move(g));
    }

    void persistentId() {
        const std::size_t t = pop("BINPERSID");
        expect(t, Kind::Tuple, "BINPERSID's argument");
        const std::vector<std::size_t> a = m_values[t].items;  // copy: push() may reallocate
        if (a.size() != 5) fail("has a BINPERSID tuple of " + std::to_string(a.size()) + " items");
        for (std::size_t i : {0, 2, 3}) expect(a[i], Kind::Str, "a BINPERSID item");
        expect(a[1], Kind::Global, "BINPERSID's storage type");
        expect(a[4], Kind::Int, "BINPERSID's element count");
        if (m_values[a[0]].text != "storage") fail("has a BINPERSID that is not a storage");
        const std::string& type = m_values[a[1]].text;
        const std::size_t element =
            type.compare(0, 6, "torch ") == 0 ? storageElementSize(type.substr(6)) : 0;
        if (!element) fail("has a storage of type '" + type + "'");
        const std::string& key = m_values[a[2]].text;
        if (!allDigits(key, 9)) fail("names tensor record '" + key + "'");
        const std::string& device = m_values[a[3]].text;
        if (device != "cpu" && device.compare(0, 4, "cuda") != 0)
            fail("puts a storage on device '" + device + "'");
        const std::int64_t numel = m_values[a[4]].number;
        const std::string tensor = m_tensorDir + key;
        const ZipRecord* r = m_zip.find(tensor);
        if (!r) fail("refers to tensor record '" + tensor + "', which the archive lacks");
        // LibTorch sizes the storage from the count, whatever the record holds: they must agree.
        if (numel < 0 || r->method != 0 || static_cast<std::uint64_t>(numel) > r->size / element ||
            static_cast<std::uint64_t>(numel) * element != r->size)
            fail("declares " + std::to_string(numel) + " elements of " + std::to_string(element) +
                 " bytes in tensor record '" + tensor + "' of " + std::to_string(r->size) +
                 " bytes");
        Value s;
        s.kind = Kind::Storage;
        s.number = numel;
        push(std::move(s));
    }

    void reduce() {
        const std::size_t args = pop("REDUCE");
        const std::size_t callable = pop("REDUCE");
        expect(callable, Kind::Global, "REDUCE's callable");
        expect(args, Kind::Tuple, "REDUCE's arguments");
        const std::string fn = m_values[callable].text;
        const std::vector<std::size_t> a = m_values[args].items;
        Value out;
        if (fn == "torch._utils _rebuild_tensor_v2") {
            if (a.size() != 6)
                fail("rebuilds a tensor from " + std::to_string(a.size()) + " items");
            expect(a[0], Kind::Storage, "a tensor's storage");
            expect(a[1], Kind::Int, "a tensor's offset");
            expect(a[2], Kind::Tuple, "a tensor's sizes");
            expect(a[3], Kind::Tuple, "a tensor's strides");
            expect(a[4], Kind::Bool, "a tensor's requires_grad");
            for (std::size_t i : {2, 3})
                for (std::size_t d : m_values[a[i]].items) expect(d, Kind::Int, "a tensor's size");
            checkExtent(m_values[a[0]].number, m_values[a[1]].number, m_values[a[2]].items,
                        m_values[a[3]].items);
            out.kind = Kind::Tensor;
        } else if (fn == "collections OrderedDict") {
            if (!a.empty()) fail("builds an OrderedDict from arguments");
            out.kind = Kind::Dict;
        } else if (fn.compare(0, 24, "torch.jit._pickle build_") == 0) {
            // LibTorch gives the list that element type without looking at its items.
            static const std::pair<const char*, Kind> kLists[] = {{"intlist", Kind::Int},
                                                                  {"doublelist", Kind::Float},
                                                                  {"boollist", Kind::Bool},
                                                                  {"tensorlist", Kind::Tensor}};
            const std::string which = fn.substr(24);
            if (a.size() != 1)
                fail("builds a typed list from " + std::to_string(a.size()) + " items");
            expect(a[0], Kind::List, "a typed list's argument");
            for (const auto& [n, k] : kLists)
                if (which == n)
                    for (std::size_t i : m_values[a[0]].items)
                        expect(i, k, "an item of a typed list");
            out.kind = Kind::List;
            out.items = m_values[a[0]].items;
        } else if (fn == "torch.jit._pickle restore_type_tag") {
            restoreTypeTag(a);
            out.kind = m_values[a[0]].kind;
            out.items = m_values[a[0]].items;
        } else if (fn == "torch device") {
            if (a.size() != 1) fail("makes a device from " + std::to_string(a.size()) + " items");
            expect(a[0], Kind::Str, "a device's name");
            const std::string& d = m_values[a[0]].text;
            if (d != "cpu" && d != "cuda" &&
                !(d.compare(0, 5, "cuda:") == 0 && allDigits(d.substr(5), 2)))
                fail("names device '" + d.substr(0, 40) + "'");
        } else {
            fail("calls '" + fn + "'");
        }
        push(std::move(out));
    }

    // The tensor's elements must lie inside its storage: LibTorch sets sizes, strides and offset
    // as the file says, and what the model computes reads whatever memory they point at.
    void checkExtent(std::int64_t numel, std::int64_t offset, const std::vector<std::size_t>& sizes,
                     const std::vector<std::size_t>& strides) {
        if (sizes.size() != strides.size())
            fail("gives a tensor " + std::to_string(sizes.size()) + " sizes and " +
                 std::to_string(strides.size()) + " strides");
        bool empty = false;
        for (std::size_t i = 0; i < sizes.size(); ++i) {
            if (m_values[sizes[i]].number < 0 || m_values[strides[i]].number < 0)
                fail("gives a tensor a negative size or stride");
            empty = empty || m_values[sizes[i]].number == 0;
        }
        const std::string outside =
            "places a tensor outside its storage of " + std::to_string(numel) + " elements";
        if (offset < 0 || offset > numel) fail(outside);
        if (empty) return;
        // The last element's index, offset + sum((size - 1) * stride), below numel; each step
        // is checked against the room left, so nothing overflows.
        std::uint64_t last = static_cast<std::uint64_t>(offset);
        const std::uint64_t count = static_cast<std::uint64_t>(numel);
        for (std::size_t i = 0; i < sizes.size(); ++i) {
            const auto n = static_cast<std::uint64_t>(m_values[sizes[i]].number);
            const auto st = static_cast<std::uint64_t>(m_values[strides[i]].number);
            if (last >= count) fail(outside);
            if (n > 1 && st > 0 && n - 1 > (count - 1 - last) / st) fail(outside);
            last += (n - 1) * st;
        }
        if (last >= count) fail(outside);
    }

    // restore_type_tag(List or Dict, "List[T]" / "Dict[K, T]"): LibTorch parses the type and
    // gives the container its element types without looking at the elements. Plain types only
    // (a class name would make the importer compile code), matching the elements.
    void restoreTypeTag(const std::vector<std::size_t>& a) {
        if (a.size() != 2) fail("restores a type tag from " + std::to_string(a.size()) + " items");
        expect(a[1], Kind::Str, "a type tag");
        const std::string& t = m_values[a[1]].text;
        const Value& c = m_values[a[0]];
        std::optional<Kind> key, item;
        if (c.kind == Kind::List && t.size() > 6 && t.compare(0, 5, "List[") == 0 &&
            t.back() == ']') {
            item = plainTypeKind(t.substr(5, t.size() - 6));
        } else if (c.kind == Kind::Dict && t.size() > 6 && t.compare(0, 5, "Dict[") == 0 &&
                   t.back() == ']') {
            const std::size_t comma = t.find(", ");
            if (comma != std::string::npos) {
                key = plainTypeKind(t.substr(5, comma - 5));
                item = plainTypeKind(t.substr(comma + 2, t.size() - comma - 3));
                if (key != Kind::Int && key != Kind::Str) key.reset();
                if (!key) item.reset();
            }
        }
        if (!item) fail("restores type '" + t.substr(0, 60) + "' on " + kindName(c.kind));
        for (std::size_t i = 0; i < c.items.size(); ++i)
            expect(c.items[i], key && i % 2 == 0 ? *key : *item, "an element of a typed container");
    }

    void memoPut(std::uint64_t id) {
        // TorchScript's pickler numbers memo entries 0, 1, 2...; LibTorch's unpickler grows its
        // memo table to any index it reads (a 4-byte index: tens of gigabytes).
        if (id != m_memo.size())
            fail("puts memo entry " + std::to_string(id) + " where " +
                 std::to_string(m_memo.size()) + " comes next");
        if (m_memo.size() >= m_limits.maxMemo)
            fail("holds more than " + std::to_string(m_limits.maxMemo) + " memo entries");
        m_memo.push_back(top("BINPUT"));
    }
    void memoGet(std::uint64_t id) {
        if (id >= m_memo.size()) fail("gets memo entry " + std::to_string(id) + ", never put");
        m_stack.push_back(m_memo[id]);
    }

    void step(unsigned char op) {
        switch (op) {
            case kProto:
                if (m_opAt != 0 || readLe(1, "PROTO") != 2) fail("is not a protocol 2 pickle");
                break;
            case kMark:
                m_marks.push_back(m_stack.size());
                break;
            case kNone:
                push({});
                break;
            case kNewTrue:
            case kNewFalse:
                push({Kind::Bool, {}, op == kNewTrue, {}});
                break;
            case kBinInt1:
                push({Kind::Int, {}, static_cast<std::int64_t>(readLe(1, "BININT1")), {}});
                break;
            case kBinInt2:
                push({Kind::Int, {}, static_cast<std::int64_t>(readLe(2, "BININT2")), {}});
                break;
            case kBinInt:
                push({Kind::Int, {}, static_cast<std::int32_t>(readLe(4, "BININT")), {}});
                break;
            case kLong1: {
                // LibTorch's unpickler reads 8 bytes whatever the length says; its pickler
                // writes 8.
                if (readLe(1, "LONG1") != 8) fail("has a LONG1 that is not 8 bytes");
                push({Kind::Int, {}, static_cast<std::int64_t>(readLe(8, "LONG1")), {}});
                break;
            }
            case kBinFloat:
                readLe(8, "BINFLOAT");
                push({Kind::Float, {}, 0, {}});
                break;
            case kBinUnicode: {
                const std::uint64_t n = readLe(4, "BINUNICODE length");
                if (n > m_limits.maxStringBytes)
                    fail("declares a string of " + std::to_string(n) + " bytes");
                if (n > m_size - m_pos)
                    fail("declares a string of " + std::to_string(n) +
                         " bytes, past the record's end");
                Value s;
                s.kind = Kind::Str;
                s.text.assign(reinterpret_cast<const char*>(m_p + m_pos), n);
                m_pos += n;
                push(std::move(s));
                break;
            }
            case kGlobal:
                global();
                break;
            case kEmptyTuple:
                tuple({});
                break;
            case kTuple1:
            case kTuple2:
            case kTuple3: {
                std::vector<std::size_t> items(op - kTuple1 + 1);
                for (std::size_t i = items.size(); i-- > 0;) items[i] = pop("TUPLEn");
                tuple(std::move(items));
                break;
            }
            case kTuple:
                tuple(popToMark("TUPLE"));
                break;
            case kEmptyList:
                push({Kind::List, {}, 0, {}});
                break;
            case kAppends: {
                const std::vector<std::size_t> items = popToMark("APPENDS");
                if (m_stack.empty()) fail("APPENDS finds no list");
                expect(m_stack.back(), Kind::List, "APPENDS's target");
                auto& list = m_values[m_stack.back()].items;
                list.insert(list.end(), items.begin(), items.end());
                break;
            }
            case kEmptyDict:
                push({Kind::Dict, {}, 0, {}});
                break;
            case kSetItems: {
                if (m_marks.empty() || m_marks.back() == 0) fail("SETITEMS finds no dict");
                const std::vector<std::size_t> items = popToMark("SETITEMS");
                if (items.size() % 2) fail("SETITEMS has a key without a value");
                expect(m_stack.back(), Kind::Dict, "SETITEMS's target");
                auto& dict = m_values[m_stack.back()].items;
                dict.insert(dict.end(), items.begin(), items.end());
                break;
            }
            case kBinPut:
                memoPut(readLe(1, "BINPUT"));
                break;
            case kLongBinPut:
                memoPut(readLe(4, "LONG_BINPUT"));
                break;
            case kBinGet:
                memoGet(readLe(1, "BINGET"));
                break;
            case kLongBinGet:
                memoGet(readLe(4, "LONG_BINGET"));
                break;
            case kNewObj: {
                const std::size_t args = pop("NEWOBJ");
                const std::size_t cls = pop("NEWOBJ");
                expect(cls, Kind::Global, "NEWOBJ's class");
                expect(args, Kind::Tuple, "NEWOBJ's arguments");
                if (m_values[cls].text.compare(0, 9, "__torch__") != 0)
                    fail("makes an object of '" + m_values[cls].text + "'");
                push({Kind::Object, {}, 0, {}});
                break;
            }
            case kBuild: {
                const std::size_t state = pop("BUILD");
                expect(state, Kind::Dict, "BUILD's state");
                expect(top("BUILD"), Kind::Object, "BUILD's target");
                break;
            }
            case kReduce:
                reduce();
                break;
            case kBinPersId:
                persistentId();
                break;
            default: {
                char buf[8];
                std::snprintf(buf, sizeof buf, "0x%02x", op);
                fail(std::string("holds opcode ") + buf +
                     ", which TorchScript's pickler does not write");
            }
        }
    }

    const unsigned char* m_p;
    std::size_t m_size;
    const TorchZip& m_zip;
    const std::string& m_where;
    const std::string& m_record;
    const PickleScanLimits& m_limits;
    const bool m_debug;
    References* m_refs;
    const std::string m_tensorDir;
    std::size_t m_pos = 0;
    std::size_t m_opAt = 0;
    std::vector<Value> m_values;  // every value made, so items can be referred to by index
    std::vector<std::size_t> m_stack;
    std::vector<std::size_t> m_marks;  // stack sizes at each MARK
    std::vector<std::size_t> m_memo;
};

// ---- Code records ------------------------------------------------------------------------------
// C++ modules export as attribute-only classes:
//   class Module(Module):
//     __parameters__ = ["weight", "bias", ]
//     __buffers__ = []
//     __annotations__ = []
//     __annotations__["params/0"] = str
//     weight : Tensor
// LibTorch's importer takes any other assignment for a class constant and crashes on one
// without a Final annotation (ScriptTypeParser::parseClassConstant); methods would be compiled.
// So these lines, and types built from a few names, are all a code record may hold.

class CodeChecker {
public:
    CodeChecker(const std::string& text, const TorchZip& zip, const std::string& where,
                const std::string& record)
        : m_text(text), m_zip(zip), m_where(where), m_record(record) {}

    void run() {
        std::size_t at = 0;
        bool first = true;
        while (at < m_text.size()) {
            std::size_t end = m_text.find('\n', at);
            if (end == std::string::npos) fail("does not end with a newline");
            m_line = m_text.substr(at, end - at);
            m_pos = 0;
            ++m_lineNo;
            at = end + 1;
            if (first) {
                if (m_line != "class Module(Module):") fail("does not define one class Module");
                first = false;
                continue;
            }
            line();
        }
        if (first) fail("is empty");
    }

private:
    [[noreturn]] void fail(const std::string& why) const {
        // The line as printable text, shortened: it comes from the file.
        std::string shown;
        for (char c : m_line.substr(0, 60)) shown += (c >= 0x20 && c <= 0x7e) ? c : '?';
        throw PickleScanError("'" + m_where + "' is not a readable checkpoint: code record '" +
                              m_record + "' " + why + " (line " + std::to_string(m_lineNo) + ": '" +
                              shown + "')");
    }

    bool eat(const char* s) {
        const std::size_t n = std::strlen(s);
        if (m_line.compare(m_pos, n, s) != 0) return false;
        m_pos += n;
        return true;
    }
    void need(const char* s) {
        if (!eat(s)) fail("has a statement CAM Explorer checkpoints do not contain");
    }
    std::string identifier() {
        const std::size_t start = m_pos;
        while (m_pos < m_line.size() &&
               (std::isalnum(static_cast<unsigned char>(m_line[m_pos])) || m_line[m_pos] == '_'))
            ++m_pos;
        if (m_pos == start || std::isdigit(static_cast<unsigned char>(m_line[start])))
            fail("has a statement CAM Explorer checkpoints do not contain");
        return m_line.substr(start, m_pos - start);
    }
    // A string literal of printable characters without quotes or escapes.
    void quoted() {
        need("\"");
        while (m_pos < m_line.size() && m_line[m_pos] != '"') {
            const unsigned char c = static_cast<unsigned char>(m_line[m_pos]);
            if (c < 0x20 || c > 0x7e || c == '\\') fail("has an unexpected character in a name");
            ++m_pos;
        }
        need("\"");
    }
    void nameList() {
        need("[");
        while (!eat("]")) {
            quoted();
            need(", ");
        }
    }
    void type(int depth = 0) {
        if (depth > 4) fail("nests types too deeply");
        static const char* const kPlain[] = {"Tensor", "str", "int", "float", "bool", "NoneType"};
        const std::string name = dotted();
        for (const char* p : kPlain)
            if (name == p) return;
        if (name == "Tuple" || name == "List" || name == "Optional" || name == "Dict") {
            need("[");
            type(depth + 1);
            while (eat(", ")) type(depth + 1);
            need("]");
            return;
        }
        // Another module of the archive: its code record must be there.
        const std::size_t dot = name.rfind('.');
        const auto code =
            dot == std::string::npos ? std::nullopt : codeRecordOf(name.substr(0, dot));
        if (!code || name.substr(dot + 1) != "Module") fail("names type '" + name + "'");
        if (!m_zip.find(*code)) fail("names type '" + name + "' without its " + *code);
    }
    std::string dotted() {
        std::string s = identifier();
        while (eat(".")) s += "." + identifier();
        return s;
    }

    void line() {
        need("  ");
        if (eat("__parameters__ = ") || eat("__buffers__ = ")) {
            nameList();
        } else if (eat("__annotations__")) {
            if (!eat(" = []")) {
                need("[");
                quoted();
                need("] = ");
                type();
            }
        } else {
            // An attribute. Names LibTorch's importer treats specially (__parameters__ and the
            // like, taken for assignments) are not attributes.
            const std::string name = identifier();
            if (name.compare(0, 2, "__") == 0) fail("declares attribute '" + name + "'");
            need(" : ");
            type();
        }
        if (m_pos != m_line.size()) fail("has a statement CAM Explorer checkpoints do not contain");
    }

    const std::string& m_text;
    const TorchZip& m_zip;
    const std::string& m_where;
    const std::string& m_record;
    std::string m_line;
    std::size_t m_pos = 0;
    std::size_t m_lineNo = 0;
};

// ---- Code records of user models -------------------------------------------------------------
// torch.jit.save writes each class's source as TorchScript's printer formats it:
//   class DenseNet(Module):
//     __parameters__ = []
//     __buffers__ = []
//     training : bool
//     features : __torch__.torch.nn.modules.container.___torch_mangle_170.Sequential
//     __annotations__["0"] = __torch__.torchvision.models.densenet._DenseBlock
//     padding : Final[Tuple[int, int]] = (1, 1)
//     def forward(self: __torch__.torchvision.models.densenet.DenseNet,
//       x: Tensor) -> Tensor:
//       features = self.features
//       ...
//   def relu(input: Tensor,
//     inplace: bool=False) -> Tensor:
//     ...
// LibTorch's importer reads the class lines itself and trusts their form (an assignment without
// Final crashed it in parseClassConstant), so they must have exactly the printer's form. Method
// and function bodies go to TorchScript's compiler, which reports what it cannot compile; its
// parser and emitter recurse on nested expressions and blocks, which are bounded here. Imports,
// nested definitions and statements the printer never writes are refused, and every __torch__
// name the code uses must be defined in the archive (checked once all records are read).
class ScriptCodeChecker {
public:
    ScriptCodeChecker(const std::string& text, const TorchZip& zip, const std::string& where,
                      const std::string& record, const std::string& shortName,
                      const PickleScanLimits& limits, Definitions& defs, References& refs)
        : m_text(text),
          m_zip(zip),
          m_where(where),
          m_record(record),
          m_short(shortName),
          m_limits(limits),
          m_defs(defs),
          m_refs(refs) {}

    void run() {
        if (m_text.empty()) fail("is empty");
        std::size_t at = 0;
        while (at < m_text.size()) {
            std::size_t end = m_text.find('\n', at);
            if (end == std::string::npos) {
                m_line = m_text.substr(at);
                ++m_lineNo;
                fail("does not end with a newline");
            }
            m_line = m_text.substr(at, end - at);
            at = end + 1;
            ++m_lineNo;
            if (m_open.empty()) {
                const std::size_t indent = m_line.find_first_not_of(' ');
                if (indent == std::string::npos) continue;  // a blank line between statements
                m_head.clear();
                m_count = 0;
                m_ref = Ref::None;
                m_first = m_line;
                m_firstNo = m_lineNo;
                m_indent = indent;
                m_depth = m_chain = 0;
            }
            lex();
            if (m_open.empty()) statement();
        }
        if (!m_open.empty()) fail("ends inside brackets");
    }

private:
    enum class Tok { Name, Number, String, Open, Close, Comma, Dot, Colon, Assign, Arrow, Op };
    struct Token {
        Tok kind;
        std::string text;
    };

    [[noreturn]] void fail(const std::string& why) const { failAt(why, m_lineNo, m_line); }
    // For what a whole statement holds: its first line.
    [[noreturn]] void failStatement(const std::string& why) const {
        failAt(why, m_firstNo, m_first);
    }
    [[noreturn]] void failAt(const std::string& why, std::size_t lineNo,
                             const std::string& line) const {
        // The line as printable text, shortened: it comes from the file.
        std::string shown;
        for (char c : line.substr(0, 60)) shown += (c >= 0x20 && c <= 0x7e) ? c : '?';
        throw PickleScanError(notReadable(m_where, true) + ": code record '" + m_record + "' " +
                              why + " (line " + std::to_string(lineNo) + ": '" + shown + "')");
    }

    // Splits one physical line into tokens, following brackets and expression depth across lines.
    void lex() {
        static const char kOps[] = "+-*/%<>=!&|^~";
        const std::string& l = m_line;
        std::size_t i = 0;
        while (true) {
            while (i < l.size() && l[i] == ' ') ++i;
            if (i >= l.size()) return;
            const unsigned char c = static_cast<unsigned char>(l[i]);
            std::size_t j = i + 1;
            Tok kind;
            if (c < 0x20 || c > 0x7e) {
                fail("has a character outside printable ASCII");
            } else if (std::isalpha(c) || c == '_') {
                while (j < l.size() &&
                       (std::isalnum(static_cast<unsigned char>(l[j])) || l[j] == '_'))
                    ++j;
                kind = Tok::Name;
            } else if (std::isdigit(c)) {
                while (j < l.size() && (std::isalnum(static_cast<unsigned char>(l[j])) ||
                                        l[j] == '.' || l[j] == '_')) {
                    const bool exponent = (l[j] == 'e' || l[j] == 'E') && j + 1 < l.size() &&
                                          (l[j + 1] == '-' || l[j + 1] == '+');
                    j += exponent ? 2 : 1;
                }
                kind = Tok::Number;
            } else if (c == '"') {
                while (j < l.size() && l[j] != '"') j += l[j] == '\\' ? 2 : 1;
                if (j >= l.size()) fail("has an unterminated string");
                ++j;
                kind = Tok::String;
            } else if (c == '(' || c == '[' || c == '{') {
                kind = Tok::Open;
            } else if (c == ')' || c == ']' || c == '}') {
                kind = Tok::Close;
            } else if (c == ',') {
                kind = Tok::Comma;
            } else if (c == '.') {
                kind = Tok::Dot;
            } else if (c == ':') {
                kind = Tok::Colon;
            } else if (std::strchr(kOps, c)) {
                while (j < l.size() && std::strchr(kOps, l[j])) ++j;
                const std::string op = l.substr(i, j - i);
                kind = op == "=" ? Tok::Assign : op == "->" ? Tok::Arrow : Tok::Op;
            } else {
                // Comments, semicolons, backslashes, single quotes, decorators...
                fail(std::string("has a character TorchScript's printer does not write ('") +
                     static_cast<char>(c) + "')");
            }
            const Token t{kind, l.substr(i, j - i)};
            nest(t);
            take(t);
            i = j;
        }
    }

    // An estimate of the expression tree's depth at this token: along the open brackets, the
    // operators, attribute dots, calls and subscripts chained since the last separator.
    void nest(const Token& t) {
        static const char* const kOperatorWords[] = {"and", "or", "not", "is", "in", "if", "else"};
        switch (t.kind) {
            case Tok::Name:
                if (m_count > 0)
                    for (const char* w : kOperatorWords)
                        if (t.text == w) ++m_chain;
                break;
            case Tok::Dot:
                ++m_chain;
                break;
            case Tok::Op:
                // Per character: "- - -x" and "---x" nest alike.
                m_chain += t.text.size();
                break;
            case Tok::Open:
                ++m_chain;
                m_open.push_back(t.text[0] == '(' ? ')' : t.text[0] == '[' ? ']' : '}');
                m_saved.push_back(m_chain);
                m_depth += m_chain;
                m_chain = 0;
                break;
            case Tok::Close:
                if (m_open.empty() || m_open.back() != t.text[0]) fail("has unbalanced brackets");
                m_open.pop_back();
                m_chain = m_saved.back();
                m_saved.pop_back();
                m_depth -= m_chain;
                break;
            case Tok::Comma:
            case Tok::Colon:
            case Tok::Assign:
            case Tok::Arrow:
                m_chain = 0;
                break;
            default:
                break;
        }
        if (m_depth + m_chain > m_limits.maxCodeNesting)
            fail("nests an expression more than " + std::to_string(m_limits.maxCodeNesting) +
                 " deep");
    }

    // What a statement needs of its tokens, taken one at a time: the first three, the last
    // kind, the refused words, and the __torch__ names.
    void take(const Token& t) {
        static const char* const kRefused[] = {"import", "from",     "lambda", "elif",
                                               "global", "nonlocal", "yield",  "async",
                                               "await",  "try",      "except", "finally"};
        if (m_head.size() < 3) m_head.push_back(t);
        // "__torch__.a.b.Name": a chain of names and dots from a __torch__ not after a dot.
        if (m_ref == Ref::AfterDot && t.kind == Tok::Name) {
            m_refQualifier = m_refDotted;
            m_refName = t.text;
            m_refDotted += "." + t.text;
            m_ref = Ref::AfterName;
        } else if (m_ref == Ref::AfterName && t.kind == Tok::Dot) {
            m_ref = Ref::AfterDot;
        } else if (m_ref != Ref::None) {
            endReference();
        }
        if (t.kind == Tok::Name) {
            for (const char* w : kRefused)
                if (t.text == w)
                    failStatement("uses '" + t.text +
                                  "', which TorchScript's printer does not write");
            if ((t.text == "def" || t.text == "class") && m_count > 0)
                failStatement("has '" + t.text + "' inside a statement");
            if (t.text == "__torch__" && m_ref == Ref::None &&
                (m_count == 0 || m_lastKind != Tok::Dot)) {
                m_refDotted = t.text;
                m_refName.clear();
                m_ref = Ref::AfterName;
            }
        }
        m_lastKind = t.kind;
        ++m_count;
    }

    // The code record code/__torch__/a/b.py of "__torch__.a.b.Name" must be there and define
    // Name (checked once all records are read).
    void endReference() {
        m_ref = Ref::None;
        if (m_refName.empty()) failStatement("uses '__torch__' without a name");
        const auto code = userCodeRecordOf(m_refQualifier);
        if (!code) failStatement("names '" + m_refDotted + "'");
        if (!m_zip.find(*code)) failStatement("names '" + m_refDotted + "' without its " + *code);
        if (m_refs.size() >= kMaxNames)
            failStatement("names more than " + std::to_string(kMaxNames) +
                          " classes and functions");
        m_refs.emplace(std::make_tuple(*code, m_refName, false),
                       Reference{m_record, m_refDotted, *code, m_refName, false});
    }

    bool isName(std::size_t i, const char* text) const {
        return i < m_head.size() && m_head[i].kind == Tok::Name && m_head[i].text == text;
    }

    void define(std::map<std::string, std::set<std::string>>& where, const std::string& name) {
        if (++m_defs.count > kMaxNames)
            failStatement("defines more than " + std::to_string(kMaxNames) +
                          " classes and functions");
        where[m_short].insert(name);
    }

    void statement() {
        if (m_ref != Ref::None) endReference();
        if (m_indent % 2) failStatement("is indented by an odd number of spaces");
        if (m_indent > m_limits.maxCodeIndent)
            failStatement("indents a statement more than " +
                          std::to_string(m_limits.maxCodeIndent) + " columns");
        const bool def = isName(0, "def"), cls = isName(0, "class");
        if (m_indent == 0) {
            if (cls) {
                // "class <Name>(Module):", or "(NamedTuple):" (the outputs of torchvision's
                // GoogLeNet and Inception v3 when scripted). TorchScript classes, interfaces and
                // enums are imported differently and are not in the models CAM Explorer opens.
                const std::string name = m_head.size() > 1 ? m_head[1].text : "";
                if (m_first == "class " + name + "(Module):") {
                    define(m_defs.modules, name);
                    m_state = State::Class;
                } else if (m_first == "class " + name + "(NamedTuple):") {
                    define(m_defs.others, name);
                    m_state = State::Tuple;
                } else {
                    failStatement("defines a class that is neither a Module nor a NamedTuple");
                }
            } else if (def) {
                define(m_defs.others, definition());
                m_state = State::Function;
            } else {
                failStatement("has a top-level statement TorchScript's printer does not write");
            }
        } else if (m_indent == 2 && (m_state == State::Class || m_state == State::Method)) {
            if (def) {
                definition();
                m_state = State::Method;
            } else {
                classLine();
                m_state = State::Class;
            }
        } else if (m_indent == 2 && m_state == State::Tuple) {
            // A field, "name : Type" (LibTorch's importer reads these itself).
            m_pos = 2;
            identifier();
            need(" : ");
            type(0);
            if (m_pos != m_first.size())
                failStatement("has a class line TorchScript's printer does not write");
        } else if ((m_state == State::Method && m_indent >= 4) ||
                   (m_state == State::Function && m_indent >= 2)) {
            if (def || cls) failStatement("defines a class or function inside a function");
        } else {
            failStatement("has a statement outside a class or function");
        }
    }

    // "def <name>(...)...:"; returns the name.
    std::string definition() const {
        if (m_count < 4 || m_head[1].kind != Tok::Name || m_head[2].text != "(" ||
            m_lastKind != Tok::Colon)
            failStatement("has a definition TorchScript's printer does not write");
        return m_head[1].text;
    }

    // ---- Class lines, in the printer's exact form (the first line of the statement) ----
    bool eat(const char* s) {
        const std::size_t n = std::strlen(s);
        if (m_first.compare(m_pos, n, s) != 0) return false;
        m_pos += n;
        return true;
    }
    void need(const char* s) {
        if (!eat(s)) failStatement("has a class line TorchScript's printer does not write");
    }
    std::string identifier() {
        const std::size_t start = m_pos;
        while (m_pos < m_first.size() &&
               (std::isalnum(static_cast<unsigned char>(m_first[m_pos])) || m_first[m_pos] == '_'))
            ++m_pos;
        const std::string id = m_first.substr(start, m_pos - start);
        if (!isIdentifier(id))
            failStatement("has a class line TorchScript's printer does not write");
        return id;
    }
    std::string dotted() {
        std::string s = identifier();
        while (eat(".")) s += "." + identifier();
        return s;
    }
    // A string literal of printable characters without quotes or escapes.
    void quoted() {
        need("\"");
        while (m_pos < m_first.size() && m_first[m_pos] != '"') {
            if (m_first[m_pos] == '\\') failStatement("has an escape in a name");
            ++m_pos;
        }
        need("\"");
    }
    void nameList() {
        need("[");
        while (!eat("]")) {
            quoted();
            need(", ");
        }
    }
    void type(int depth) {
        if (depth > 8) failStatement("nests types too deeply");
        static const char* const kPlain[] = {"Tensor", "str",      "int",   "float",
                                             "bool",   "NoneType", "Device"};
        static const char* const kGeneric[] = {"Tuple", "List", "Optional", "Dict"};
        const std::string name = dotted();
        for (const char* p : kPlain)
            if (name == p) return;
        for (const char* g : kGeneric)
            if (name == g) {
                need("[");
                type(depth + 1);
                while (eat(", ")) type(depth + 1);
                need("]");
                return;
            }
        // A class of the archive: reference() has found its code record.
        if (name.compare(0, 10, "__torch__.") != 0) failStatement("names type '" + name + "'");
    }
    // What a Final constant holds: None, True, False, a number, a string, a tuple of these.
    void literal(int depth) {
        if (depth > 8) failStatement("nests a constant too deeply");
        if (eat("None") || eat("True") || eat("False")) return;
        if (m_pos < m_first.size() && m_first[m_pos] == '"') return quoted();
        if (eat("(")) {
            if (eat(")")) return;
            literal(depth + 1);
            if (eat(",)")) return;
            while (eat(", ")) literal(depth + 1);
            need(")");
            return;
        }
        eat("-");
        auto digits = [&] {
            const std::size_t start = m_pos;
            while (m_pos < m_first.size() &&
                   std::isdigit(static_cast<unsigned char>(m_first[m_pos])))
                ++m_pos;
            return m_pos > start;
        };
        if (!digits()) failStatement("has a constant TorchScript's printer does not write");
        if (eat(".")) digits();
        if (eat("e") || eat("E")) {
            if (!eat("-")) eat("+");
            if (!digits()) failStatement("has a constant TorchScript's printer does not write");
        }
    }
    // A statement in a class body: LibTorch's importer takes __parameters__, __buffers__ and
    // __annotations__ lines, "name : Type" attributes and "name : Final[Type] = value"
    // constants, and trusts their form.
    void classLine() {
        m_pos = 2;
        if (eat("__parameters__ = ") || eat("__buffers__ = ")) {
            nameList();
        } else if (eat("__annotations__")) {
            if (!eat(" = []")) {
                need("[");
                quoted();
                need("] = ");
                type(0);
            }
        } else {
            const std::string name = identifier();
            if (name.compare(0, 2, "__") == 0) failStatement("declares attribute '" + name + "'");
            need(" : ");
            if (eat("Final[")) {
                type(0);
                need("] = ");
                literal(0);
            } else {
                type(0);
            }
        }
        if (m_pos != m_first.size())
            failStatement("has a class line TorchScript's printer does not write");
    }

    enum class State { Top, Class, Method, Function, Tuple };
    enum class Ref { None, AfterName, AfterDot };

    const std::string& m_text;
    const TorchZip& m_zip;
    const std::string& m_where;
    const std::string& m_record;
    const std::string& m_short;
    const PickleScanLimits& m_limits;
    Definitions& m_defs;
    References& m_refs;
    State m_state = State::Top;
    std::string m_line;  // the physical line being read
    std::size_t m_lineNo = 0;
    std::string m_first;  // the statement's first line
    std::size_t m_firstNo = 0;
    std::size_t m_indent = 0;   // of the statement
    std::vector<Token> m_head;  // the statement's first three tokens
    std::size_t m_count = 0;    // its tokens so far
    Tok m_lastKind = Tok::Op;
    Ref m_ref = Ref::None;  // a __torch__ name being read
    std::string m_refDotted, m_refQualifier, m_refName;
    std::vector<char> m_open;          // closing brackets expected
    std::vector<std::size_t> m_saved;  // m_chain at each open bracket
    std::size_t m_depth = 0;           // sum of m_saved
    std::size_t m_chain = 0;
    std::size_t m_pos = 0;  // in m_first, for class lines
};

// LibTorch's archive reader reads ".data/version" when there is one and "version" otherwise, and
// throws from its constructor when the record is unreadable, after its zip reader has allocated
// (found leaking by fuzz_checkpoint): a version record must be stored and hold "<digits>\n" or
// "<digits>" in the range that reader supports.
bool supportedVersion(const char* data, const ZipRecord& r) {
    if (r.method != 0 || r.size < 1 || r.size > 8) return false;
    std::uint64_t v = 0;
    for (std::uint64_t i = 0; i < r.size; ++i) {
        const char c = data[r.dataOffset + i];
        if (c >= '0' && c <= '9' && i < 6)
            v = v * 10 + static_cast<std::uint64_t>(c - '0');
        else if (c != '\n' || i + 1 != r.size || i == 0)
            return false;
    }
    return v >= caffe2::serialize::kMinSupportedFileFormatVersion &&
           v <= caffe2::serialize::kMaxSupportedFileFormatVersion;
}

void scanArchive(const char* data, std::size_t size, const TorchZip& zip, const std::string& where,
                 const PickleScanLimits& limits, bool user) {
    const std::string prefix = zip.prefix + "/";
    const std::string bad = notReadable(where, user);
    const ZipRecord* dataVersion = zip.find(".data/version");
    const ZipRecord* version = zip.find("version");
    // Checkpoints: "version" as LibTorch writes it; a ".data/version" (which LibTorch would read
    // instead) must hold a supported version too. User models: either, each one present valid.
    for (const ZipRecord* r : {dataVersion, version})
        if (r && !supportedVersion(data, *r))
            throw PickleScanError(bad + ": record '" + r->name + "' holds no supported version");
    if (!version && !(user && dataVersion))
        throw PickleScanError(bad + ": record '" + prefix +
                              (user ? ".data/version' or '" + prefix + "version" : "version") +
                              "' is missing or holds no supported version");
    // Deflated records are inflated by LibTorch's own reader (miniz), on a container that
    // validateTorchZip has checked and whose inflated sizes it has bounded.
    std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
    auto inflate = [&](const ZipRecord& r, const std::string& name, const char* what) {
        try {
            if (!reader)
                reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(
                    std::make_shared<caffe2::serialize::MemoryReadAdapter>(
                        data, static_cast<off_t>(size)));
            auto [ptr, n] = reader->getRecord(name);
            return std::string(static_cast<const char*>(ptr.get()), n);
        } catch (const c10::Error& e) {
            throw PickleScanError(bad + ": " + what + " record '" + r.name +
                                  "' cannot be inflated: " + e.what_without_backtrace());
        }
    };
    Definitions defs;
    References refs;
    References* userRefs = user ? &refs : nullptr;
    const std::uint64_t maxCode = user ? limits.maxUserCodeBytes : limits.maxCodeBytes;
    for (const ZipRecord& r : zip.records) {
        if (r.name.compare(0, prefix.size(), prefix) != 0) continue;
        const std::string name = r.name.substr(prefix.size());
        // Extra files: LibTorch reads those asked for, as bytes (CAM Explorer's camx.json).
        if (user && name.compare(0, 6, "extra/") == 0) continue;
        const bool debug = endsWith(name, ".debug_pkl");
        const bool pickle = endsWith(name, ".pkl") || debug;
        const bool code = name.compare(0, 5, "code/") == 0 && endsWith(name, ".py");
        if (pickle) {
            if (r.method == 0) {
                PickleScanner(reinterpret_cast<const unsigned char*>(data + r.dataOffset), r.size,
                              zip, where, r.name, limits, userRefs)
                    .run();
                continue;
            }
            // torch.jit.save deflates some source-range records, never data or constants.
            if (!(user && debug))
                throw PickleScanError(bad + ": pickle record '" + r.name + "' is compressed");
            if (r.size > maxCode)
                throw PickleScanError(bad + ": pickle record '" + r.name + "' is too large");
            const std::string bytes = inflate(r, name, "pickle");
            PickleScanner(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), zip,
                          where, r.name, limits, userRefs)
                .run();
        } else if (code) {
            if (r.size > maxCode)
                throw PickleScanError(bad + ": code record '" + r.name + "' is too large");
            const std::string text =
                r.method == 0 ? std::string(data + r.dataOffset, r.size) : inflate(r, name, "code");
            if (user)
                ScriptCodeChecker(text, zip, where, r.name, name, limits, defs, refs).run();
            else
                CodeChecker(text, zip, where, r.name).run();
        }
    }
    for (const auto& [key, ref] : refs) {
        if (defs.modules[ref.record].count(ref.name) ||
            (!ref.classOnly && defs.others[ref.record].count(ref.name)))
            continue;
        throw PickleScanError(bad + ": record '" + ref.from + "' names " +
                              (ref.classOnly ? "class '" : "'") + ref.what + "', which " + prefix +
                              ref.record + " does not define" +
                              (ref.classOnly ? " as a Module" : ""));
    }
}

}  // namespace

void scanTorchScriptPickle(const char* data, std::size_t size, const TorchZip& zip,
                           const std::string& where, const std::string& record,
                           const PickleScanLimits& limits) {
    PickleScanner(reinterpret_cast<const unsigned char*>(data), size, zip, where, record, limits)
        .run();
}

void scanCheckpointRecords(const char* data, std::size_t size, const TorchZip& zip,
                           const std::string& where, const PickleScanLimits& limits) {
    scanArchive(data, size, zip, where, limits, false);
}

void scanUserTorchScriptRecords(const char* data, std::size_t size, const TorchZip& zip,
                                const std::string& where, const PickleScanLimits& limits) {
    scanArchive(data, size, zip, where, limits, true);
}

}  // namespace camx

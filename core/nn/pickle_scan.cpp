#include "nn/pickle_scan.h"

#include <caffe2/serialize/in_memory_adapter.h>
#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/versions.h>

#include <c10/util/Exception.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
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
enum class Kind { Other, Int, Bool, Str, Tuple, List, Dict, Global, Object, Storage, Tensor };

struct Value {
    Kind kind = Kind::Other;
    std::string text;                // Str: the string; Global: "module name"
    std::int64_t number = 0;         // Int
    std::vector<std::size_t> items;  // Tuple: indices into the value arena
};

const char* kindName(Kind k) {
    switch (k) {
        case Kind::Int:
            return "an int";
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
    PickleScanner(const unsigned char* p, std::size_t size, const TorchZip& zip,
                  const std::string& where, const std::string& record,
                  const PickleScanLimits& limits)
        : m_p(p),
          m_size(size),
          m_zip(zip),
          m_where(where),
          m_record(record),
          m_limits(limits),
          m_debug(record.size() > 10 && record.compare(record.size() - 10, 10, ".debug_pkl") == 0) {
    }

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
    [[noreturn]] void fail(const std::string& why) const {
        throw PickleScanError("'" + m_where + "' is not a readable checkpoint: record '" +
                              m_record + "' " + why + " (at byte " + std::to_string(m_opAt) + ")");
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
        bool ok = false;
        if (m_debug) {
            // Source-range records hold lists of ints only.
            ok = full == "torch.jit._pickle build_intlist";
        } else if (module == "torch") {
            ok = storageElementSize(name) != 0;
        } else if (full == "torch._utils _rebuild_tensor_v2" || full == "collections OrderedDict") {
            ok = true;
        } else if (name == "Module") {
            // A class of the archive: LibTorch compiles it from its code record when it meets
            // this GLOBAL, so that record must be there (and is checked on its own).
            const auto code = codeRecordOf(module);
            if (code && !m_zip.find(*code)) fail("names class '" + full + "' without its " + *code);
            ok = code.has_value();
        }
        if (!ok) fail("names a global not found in CAM Explorer checkpoints ('" + full + "')");
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
        const ZipRecord* r = m_zip.find("data/" + key);
        if (!r) fail("refers to tensor record 'data/" + key + "', which the archive lacks");
        // LibTorch sizes the storage from the count, whatever the record holds: they must agree.
        if (numel < 0 || r->method != 0 || static_cast<std::uint64_t>(numel) > r->size / element ||
            static_cast<std::uint64_t>(numel) * element != r->size)
            fail("declares " + std::to_string(numel) + " elements of " + std::to_string(element) +
                 " bytes in tensor record 'data/" + key + "' of " + std::to_string(r->size) +
                 " bytes");
        Value s;
        s.kind = Kind::Storage;
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
            out.kind = Kind::Tensor;
        } else if (fn == "collections OrderedDict") {
            if (!a.empty()) fail("builds an OrderedDict from arguments");
            out.kind = Kind::Dict;
        } else if (fn == "torch.jit._pickle build_intlist") {
            if (a.size() != 1)
                fail("builds an int list from " + std::to_string(a.size()) + " items");
            expect(a[0], Kind::List, "build_intlist's argument");
            out.kind = Kind::List;
        } else {
            fail("calls '" + fn + "'");
        }
        push(std::move(out));
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
                push({});
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
            case kAppends:
                popToMark("APPENDS");
                if (m_stack.empty()) fail("APPENDS finds no list");
                expect(m_stack.back(), Kind::List, "APPENDS's target");
                break;
            case kEmptyDict:
                push({Kind::Dict, {}, 0, {}});
                break;
            case kSetItems: {
                if (m_marks.empty() || m_marks.back() == 0) fail("SETITEMS finds no dict");
                const std::vector<std::size_t> items = popToMark("SETITEMS");
                if (items.size() % 2) fail("SETITEMS has a key without a value");
                expect(m_stack.back(), Kind::Dict, "SETITEMS's target");
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

bool endsWith(const std::string& s, const char* suffix) {
    const std::size_t n = std::strlen(suffix);
    return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
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
    const std::string prefix = zip.prefix + "/";
    // LibTorch's archive reader throws from its constructor when the version record is missing
    // or unreadable, after its zip reader has allocated (found leaking by fuzz_checkpoint): so
    // the record must be there, stored, and hold a version that reader supports.
    const ZipRecord* version = zip.find("version");
    std::uint64_t v = 0;
    bool versionOk = version && version->method == 0 && version->size >= 1 && version->size <= 8;
    for (std::uint64_t i = 0; versionOk && i < version->size; ++i) {
        const char c = data[version->dataOffset + i];
        if (c >= '0' && c <= '9' && i < 6)
            v = v * 10 + static_cast<std::uint64_t>(c - '0');
        else if (c != '\n' || i + 1 != version->size || i == 0)
            versionOk = false;
    }
    if (!versionOk || v < caffe2::serialize::kMinSupportedFileFormatVersion ||
        v > caffe2::serialize::kMaxSupportedFileFormatVersion)
        throw PickleScanError("'" + where + "' is not a readable checkpoint: record '" + prefix +
                              "version' is missing or holds no supported version");
    // Deflated code records are inflated by LibTorch's own reader (miniz), on a container that
    // validateTorchZip has checked and whose inflated sizes it has bounded.
    std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
    for (const ZipRecord& r : zip.records) {
        if (r.name.compare(0, prefix.size(), prefix) != 0) continue;
        const std::string name = r.name.substr(prefix.size());
        const bool pickle = endsWith(name, ".pkl") || endsWith(name, ".debug_pkl");
        const bool code = name.compare(0, 5, "code/") == 0 && endsWith(name, ".py");
        if (pickle) {
            if (r.method != 0)
                throw PickleScanError("'" + where +
                                      "' is not a readable checkpoint: pickle record '" + r.name +
                                      "' is compressed");
            scanTorchScriptPickle(data + r.dataOffset, r.size, zip, where, r.name, limits);
        } else if (code) {
            if (r.size > limits.maxCodeBytes)
                throw PickleScanError("'" + where +
                                      "' is not a readable checkpoint: code record '" + r.name +
                                      "' is too large");
            std::string text;
            if (r.method == 0) {
                text.assign(data + r.dataOffset, r.size);
            } else {
                try {
                    if (!reader)
                        reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(
                            std::make_shared<caffe2::serialize::MemoryReadAdapter>(
                                data, static_cast<off_t>(size)));
                    auto [ptr, n] = reader->getRecord(name);
                    text.assign(static_cast<const char*>(ptr.get()), n);
                } catch (const c10::Error& e) {
                    throw PickleScanError("'" + where +
                                          "' is not a readable checkpoint: code record '" + r.name +
                                          "' cannot be inflated: " + e.what_without_backtrace());
                }
            }
            CodeChecker(text, zip, where, r.name).run();
        }
    }
}

}  // namespace camx

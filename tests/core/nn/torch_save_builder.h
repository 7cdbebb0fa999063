#pragma once
// Builds torch.save-format files in memory for the tests and the fuzz corpus: a hand-written
// pickle (protocol 2, the opcodes torch.save emits) in a zip written by LibTorch's own
// PyTorchStreamWriter, which is what torch.save uses. Hostile files are built the same way.

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace camx::test {

class Pickle {
public:
    Pickle() { m_s = "\x80\x02"; }
    Pickle& raw(const std::string& bytes) {
        m_s += bytes;
        return *this;
    }
    Pickle& op(char c) {
        m_s.push_back(c);
        return *this;
    }
    Pickle& str(const std::string& v) {  // BINUNICODE
        m_s.push_back('X');
        le(v.size(), 4);
        m_s += v;
        return *this;
    }
    Pickle& integer(std::int64_t v) {
        if (v >= 0 && v < 256) {
            m_s.push_back('K');
            le(static_cast<std::uint64_t>(v), 1);
        } else if (v >= INT32_MIN && v <= INT32_MAX) {
            m_s.push_back('J');
            le(static_cast<std::uint64_t>(static_cast<std::uint32_t>(static_cast<std::int32_t>(v))),
               4);
        } else {
            m_s += "\x8a\x08";
            le(static_cast<std::uint64_t>(v), 8);
        }
        return *this;
    }
    Pickle& global(const std::string& module, const std::string& name) {
        m_s += "c" + module + "\n" + name + "\n";
        return *this;
    }
    Pickle& put(std::uint32_t idx) {  // LONG_BINPUT
        m_s.push_back('r');
        le(idx, 4);
        return *this;
    }
    Pickle& get(std::uint32_t idx) {  // LONG_BINGET
        m_s.push_back('j');
        le(idx, 4);
        return *this;
    }
    Pickle& ints(const std::vector<std::int64_t>& v) {  // a tuple
        m_s.push_back('(');
        for (auto x : v) integer(x);
        m_s.push_back('t');
        return *this;
    }
    // Pushes the persistent storage ('storage', torch.<Type>, key, 'cpu', numel).
    Pickle& storage(const std::string& key, std::int64_t numel,
                    const std::string& type = "FloatStorage") {
        m_s.push_back('(');
        str("storage");
        global("torch", type);
        str(key);
        str("cpu");
        integer(numel);
        m_s += "tQ";
        return *this;
    }
    // Pushes _rebuild_tensor_v2(<storage pushed by `pushStorage`>, offset, size, stride, False,
    // OrderedDict()).
    template <class PushStorage>
    Pickle& tensor(PushStorage pushStorage, std::int64_t offset,
                   const std::vector<std::int64_t>& size, const std::vector<std::int64_t>& stride) {
        global("torch._utils", "_rebuild_tensor_v2");
        m_s.push_back('(');
        pushStorage(*this);
        integer(offset);
        ints(size);
        ints(stride);
        m_s.push_back('\x89');
        global("collections", "OrderedDict");
        m_s += ")Rt";
        m_s.push_back('R');
        return *this;
    }
    const std::string& bytes() const { return m_s; }

private:
    void le(std::uint64_t v, int n) {
        for (int k = 0; k < n; ++k) m_s.push_back(static_cast<char>((v >> (8 * k)) & 0xff));
    }
    std::string m_s;
};

// A zip as torch.save writes it: "archive/data.pkl" and "archive/data/<key>" records.
inline std::string torchZip(const std::string& pickle,
                            const std::vector<std::pair<std::string, std::string>>& records) {
    std::string out;
    {
        caffe2::serialize::PyTorchStreamWriter w([&](const void* d, std::size_t n) {
            out.append(static_cast<const char*>(d), n);
            return n;
        });
        w.writeRecord("data.pkl", pickle.data(), pickle.size());
        for (const auto& [name, bytes] : records)
            w.writeRecord("data/" + name, bytes.data(), bytes.size());
        w.writeEndOfFile();
    }
    return out;
}

// A real torch.save-format state dict of `tensors` (contiguous float copies).
inline std::string torchSave(const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
    Pickle p;
    p.global("collections", "OrderedDict").raw(")R(");
    std::vector<std::pair<std::string, std::string>> records;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const at::Tensor t = tensors[i].second.detach().to(at::kFloat).contiguous();
        const std::string key = std::to_string(i);
        records.emplace_back(key, std::string(static_cast<const char*>(t.data_ptr()), t.nbytes()));
        p.str(tensors[i].first);
        p.tensor([&](Pickle& q) { q.storage(key, t.numel()); }, 0, t.sizes().vec(),
                 t.strides().vec());
    }
    p.raw("u.");
    return torchZip(p.bytes(), records);
}

}  // namespace camx::test

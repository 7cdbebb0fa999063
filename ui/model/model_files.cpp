#include "model/model_files.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QSettings>
#include <QStandardPaths>
#include <algorithm>
#include <cstring>
#include <fstream>

#include "nn/torch_zip.h"

namespace camx::ui {

namespace {
const QString kTrustedFiles = QStringLiteral("trust/torchScriptFiles");
const QString kTrustedFolders = QStringLiteral("trust/torchScriptFolders");

QString absolute(const QString& file) {
    const QFileInfo info(file);
    const QString canonical = info.canonicalFilePath();
    return QDir::cleanPath(canonical.isEmpty() ? info.absoluteFilePath() : canonical);
}

QString canonicalDir(const QString& dir) {
    const QString c = QDir(dir).canonicalPath();
    return QDir::cleanPath(c.isEmpty() ? QDir(dir).absolutePath() : c);
}

bool isUnder(const QString& path, const QString& dir) {
    if (dir.isEmpty()) return false;
    if (dir == QLatin1String("/")) return true;
    return path == dir || path.startsWith(dir + QLatin1Char('/'));
}

QString inputKey(const QString& file) {
    const QByteArray hash =
        QCryptographicHash::hash(absolute(file).toUtf8(), QCryptographicHash::Sha1).toHex();
    return QStringLiteral("modelInput/") + QString::fromLatin1(hash.left(20));
}
}  // namespace

ModelFileProbe probeModelFile(const std::filesystem::path& file) {
    ModelFileProbe probe;
    std::string ext = file.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == ".ckpt") return probe;  // a CAM Explorer checkpoint, whatever it holds
    std::ifstream in(file, std::ios::binary);
    if (!in) return probe;
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::uint64_t>(in.tellg());
    char magic[4] = {};
    in.seekg(0);
    if (size < 4 || !in.read(magic, 4) || !looksLikeZip(magic, 4)) return probe;
    const ZipFileReader read = [&in](std::uint64_t offset, std::size_t n, char* out) {
        in.clear();
        in.seekg(static_cast<std::streamoff>(offset));
        if (!in.read(out, static_cast<std::streamsize>(n))) throw TorchZipError("short read");
    };
    try {
        const TorchZip zip =
            readTorchZipDirectory(read, size, file.string(), torchScriptZipLimits());
        const std::string code = zip.prefix + "/code/";
        const bool hasCode =
            std::any_of(zip.records.begin(), zip.records.end(),
                        [&](const auto& r) { return r.name.compare(0, code.size(), code) == 0; });
        if (!zip.find("constants.pkl") || !hasCode) return probe;
        // Our own checkpoints are TorchScript archives too; their data.pkl names camx_meta.
        if (const ZipRecord* data = zip.find("data.pkl")) {
            try {
                const std::string pkl =
                    readTorchZipRecord(read, size, zip, *data, file.string(), 64u << 20);
                if (::memmem(pkl.data(), pkl.size(), "camx_meta", 9) != nullptr) return probe;
            } catch (const TorchZipError&) {
                // Unreadable here: opening it says what is wrong; until then it counts as code.
            }
        }
        probe.torchScript = true;
        probe.hasMetadata = zip.find(std::string("extra/") + kScriptMetaFile) != nullptr;
    } catch (const std::exception&) {
        return {};
    }
    return probe;
}

bool hasTorchScriptSuffix(const QString& file) {
    const QString s = QFileInfo(file).suffix().toLower();
    return s == QLatin1String("pt") || s == QLatin1String("pts") ||
           s == QLatin1String("torchscript");
}

bool hasModelSuffix(const QString& file) {
    const QString s = QFileInfo(file).suffix().toLower();
    return s == QLatin1String("ckpt") || s == QLatin1String("pth") || hasTorchScriptSuffix(file) ||
           hasKerasSuffix(file);
}

bool hasKerasSuffix(const QString& file) {
    const QString s = QFileInfo(file).suffix().toLower();
    return s == QLatin1String("h5") || s == QLatin1String("hdf5") || s == QLatin1String("keras");
}

bool isInUserFolders(const QString& file) {
    const QString path = absolute(file);
    const QString home = canonicalDir(QDir::homePath());
    if (home == QLatin1String("/") || !isUnder(path, home)) return false;
    QStringList outside = {QDir::tempPath(), QStringLiteral("/tmp"), QStringLiteral("/var/tmp"),
                           QDir(home).filePath(QStringLiteral("Downloads"))};
    outside << QStandardPaths::standardLocations(QStandardPaths::DownloadLocation)
            << QStandardPaths::standardLocations(QStandardPaths::TempLocation);
    for (const QString& dir : outside) {
        // A home folder inside a temporary one (a throwaway account) counts as temporary.
        const QString d = canonicalDir(dir);
        if (d != home && isUnder(path, d)) return false;
    }
    return true;
}

bool isTrustedModelLocation(const QString& file) {
    if (isInUserFolders(file)) return true;
    const QString path = absolute(file);
    QSettings s;
    if (s.value(kTrustedFiles).toStringList().contains(path)) return true;
    return s.value(kTrustedFolders).toStringList().contains(QFileInfo(path).absolutePath());
}

void trustModelFile(const QString& file) {
    QSettings s;
    QStringList files = s.value(kTrustedFiles).toStringList();
    const QString path = absolute(file);
    if (!files.contains(path)) files << path;
    s.setValue(kTrustedFiles, files);
}

void trustModelFolder(const QString& folder) {
    QSettings s;
    QStringList folders = s.value(kTrustedFolders).toStringList();
    const QString dir = canonicalDir(folder);
    if (!folders.contains(dir)) folders << dir;
    s.setValue(kTrustedFolders, folders);
}

std::optional<ScriptMeta> rememberedModelInput(const QString& file) {
    const QString text = QSettings().value(inputKey(file) + QStringLiteral("/input")).toString();
    if (text.isEmpty()) return std::nullopt;
    try {
        return parseScriptMeta(text.toStdString(), file.toStdString());
    } catch (const ScriptMetaError&) {
        return std::nullopt;  // written by another version: ask again
    }
}

void rememberModelInput(const QString& file, const ScriptMeta& input) {
    QSettings s;
    s.setValue(inputKey(file) + QStringLiteral("/path"), absolute(file));
    s.setValue(inputKey(file) + QStringLiteral("/input"),
               QString::fromStdString(scriptMetaToJson(input)));
}

void forgetModelInput(const QString& file) {
    QSettings().remove(inputKey(file));
}

std::optional<KerasPreprocess> rememberedKerasPreprocess(const QString& file) {
    const QString name =
        QSettings().value(inputKey(file) + QStringLiteral("/kerasPreprocess")).toString();
    return parseKerasPreprocess(name.toStdString());
}

void rememberKerasPreprocess(const QString& file, KerasPreprocess p) {
    QSettings s;
    s.setValue(inputKey(file) + QStringLiteral("/path"), absolute(file));
    s.setValue(inputKey(file) + QStringLiteral("/kerasPreprocess"),
               QString::fromStdString(kerasPreprocessName(p)));
}

}  // namespace camx::ui

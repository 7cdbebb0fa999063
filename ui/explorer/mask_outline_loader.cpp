#include "explorer/mask_outlines.h"

#include <QCoreApplication>
#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrent>
#include <opencv2/imgproc.hpp>

#include "background_job.h"
#include "common/thread_priority.h"
#include "data/image_io.h"

namespace camx::ui {

std::vector<QPolygonF> maskContours(const cv::Mat& gray, double sx, double sy) {
    std::vector<QPolygonF> out;
    if (gray.empty()) return out;
    double lo = 0, hi = 0;
    cv::minMaxLoc(gray, &lo, &hi);
    if (hi <= 0) return out;
    // 0/255 masks, and 0/1 ones written as PNG without scaling, both have their foreground at
    // the maximum.
    cv::Mat binary;
    cv::threshold(gray, binary, hi / 2.0, 255, cv::THRESH_BINARY);
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(binary, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
    for (const auto& c : contours) {
        QPolygonF poly;
        poly.reserve(static_cast<qsizetype>(c.size()));
        for (const cv::Point& p : c) poly << QPointF(p.x * sx, p.y * sy);
        out.push_back(std::move(poly));
    }
    return out;
}

MaskOutlines readMaskOutlines(const Sample& sample) {
    MaskOutlines out;
    auto trace = [&](const std::filesystem::path& file, std::vector<QPolygonF>& into) {
        try {
            // readRgb checks the declared size against the pixel budget before decoding.
            const cv::Mat rgb = readRgb(file);
            cv::Mat gray;
            cv::cvtColor(rgb, gray, cv::COLOR_RGB2GRAY);
            const double sx = sample.width > 0 ? double(sample.width) / gray.cols : 1.0;
            const double sy = sample.height > 0 ? double(sample.height) / gray.rows : 1.0;
            for (auto& poly : maskContours(gray, sx, sy)) into.push_back(std::move(poly));
        } catch (const std::exception& e) {
            out.errors << QString::fromStdString(e.what());
        }
    };
    for (const auto& mask : sample.maskPaths) trace(mask, out.instances);
    if (!sample.ignoreMaskPath.empty()) trace(sample.ignoreMaskPath, out.ignore);
    return out;
}

MaskOutlineLoader::MaskOutlineLoader(QObject* parent) : QObject(parent) {
    qRegisterMetaType<std::shared_ptr<const MaskOutlines>>();
}

MaskOutlineLoader::~MaskOutlineLoader() = default;  // jobs finish alone; their replies are dropped

std::shared_ptr<const MaskOutlines> MaskOutlineLoader::cached(const QString& path) const {
    for (const auto& [p, o] : m_cache)
        if (p == path) return o;
    return nullptr;
}

void MaskOutlineLoader::store(const QString& path, std::shared_ptr<const MaskOutlines> outlines) {
    m_cache.remove_if([&](const auto& e) { return e.first == path; });
    m_cache.emplace_front(path, std::move(outlines));
    while (m_cache.size() > kCacheSize) m_cache.pop_back();
}

std::shared_ptr<const MaskOutlines> MaskOutlineLoader::request(const Sample& sample) {
    const QString path = QString::fromStdString(sample.imagePath.string());
    if (auto hit = cached(path)) return hit;
    if (!sample.hasMasks() && sample.ignoreMaskPath.empty()) {
        auto none = std::make_shared<const MaskOutlines>();
        store(path, none);
        return none;
    }
    if (m_pending.contains(path)) return nullptr;  // on its way
    m_pending.insert(path, m_generation);
    auto* watcher = new QFutureWatcher<std::shared_ptr<const MaskOutlines>>(this);
    const int generation = m_generation;
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, path, generation] {
        watcher->deleteLater();
        if (generation != m_generation) return;  // cleared meanwhile: another dataset's
        m_pending.remove(path);
        const auto outlines = watcher->future().resultCount()
                                  ? watcher->result()
                                  : std::make_shared<const MaskOutlines>();
        store(path, outlines);
        Q_EMIT ready(path, outlines);
    });
    watcher->setFuture(QtConcurrent::run(backgroundPool(), [sample] {
        lowerCurrentThreadPriority();
        return std::make_shared<const MaskOutlines>(readMaskOutlines(sample));
    }));
    return nullptr;
}

void MaskOutlineLoader::clear() {
    ++m_generation;
    m_pending.clear();
    m_cache.clear();
}

}  // namespace camx::ui

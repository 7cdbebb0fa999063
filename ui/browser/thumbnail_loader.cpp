#include "browser/thumbnail_loader.h"

#include <QMutexLocker>
#include <opencv2/imgproc.hpp>

#include "common/image_convert.h"
#include "data/image_io.h"

namespace camx::ui {

namespace {
constexpr std::size_t kMaxQueued = 256;
}

ThumbnailLoader::ThumbnailLoader(int size, int cacheMegabytes, QObject* parent)
    : QObject(parent), m_size(size), m_cache(cacheMegabytes * 1024) {
    m_pool.setMaxThreadCount(2);
}

ThumbnailLoader::~ThumbnailLoader() {
    {
        QMutexLocker lock(&m_mutex);
        m_queue.clear();
    }
    m_pool.waitForDone();
}

QImage ThumbnailLoader::thumbnail(int key, const QString& path) {
    QMutexLocker lock(&m_mutex);
    if (QImage* img = m_cache.object(key)) return *img;
    if (m_pending.contains(key)) return {};
    m_pending.insert(key);
    m_queue.emplace_back(key, path);
    while (m_queue.size() > kMaxQueued) {  // forget the oldest requests: rows long scrolled past
        m_pending.remove(m_queue.front().first);
        m_queue.pop_front();
    }
    lock.unlock();
    m_pool.start([this] { drain(); });
    return {};
}

void ThumbnailLoader::drain() {
    std::pair<int, QString> job;
    int generation;
    {
        QMutexLocker lock(&m_mutex);
        if (m_queue.empty()) return;
        job = m_queue.back();  // newest first: what the user looks at now
        m_queue.pop_back();
        generation = m_generation;
    }
    QImage thumb;
    try {
        cv::Mat rgb = readReduced(job.second.toStdString());
        const double scale = double(m_size) / std::max(rgb.cols, rgb.rows);
        if (scale < 1.0) {
            cv::Mat small;
            cv::resize(rgb, small, cv::Size(), scale, scale, cv::INTER_AREA);
            rgb = small;
        }
        thumb = toQImage(rgb);
    } catch (const std::exception&) {
        thumb = QImage(m_size, m_size * 3 / 4, QImage::Format_RGB888);
        thumb.fill(Qt::darkGray);
    }
    {
        QMutexLocker lock(&m_mutex);
        m_pending.remove(job.first);
        if (generation != m_generation) return;
        const int cost = std::max(1, static_cast<int>(thumb.sizeInBytes() / 1024));
        m_cache.insert(job.first, new QImage(thumb), cost);
    }
    QMetaObject::invokeMethod(
        this, [this, key = job.first] { Q_EMIT thumbnailReady(key); }, Qt::QueuedConnection);
}

void ThumbnailLoader::clear() {
    QMutexLocker lock(&m_mutex);
    ++m_generation;
    m_queue.clear();
    m_pending.clear();
    m_cache.clear();
}

void ThumbnailLoader::waitForIdle() {
    m_pool.waitForDone();
}

}  // namespace camx::ui

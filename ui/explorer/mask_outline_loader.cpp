#include "explorer/mask_outline_loader.h"

#include <QCoreApplication>
#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrent>

#include "background_job.h"
#include "common/thread_priority.h"

namespace camx::ui {

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

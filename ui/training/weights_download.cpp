#include "training/weights_download.h"

#include <QDir>
#include <QFileInfo>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>

namespace camx::ui {

WeightsDownloader::WeightsDownloader(QObject* parent)
    : QObject(parent), m_net(new QNetworkAccessManager(this)) {}

WeightsDownloader::~WeightsDownloader() {
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
    }
    if (m_file) m_file->cancelWriting();
}

void WeightsDownloader::start(const QUrl& url, const QString& destination,
                              const QString& hashPrefix) {
    if (isRunning()) return;
    m_url = url;
    m_destination = destination;
    m_prefix = hashPrefix.toLower();
    m_cancelled = false;
    m_hash.reset();
    if (!QDir().mkpath(QFileInfo(destination).absolutePath()))
        return fail(tr("Cannot create the folder for '%1'").arg(destination));
    m_file = std::make_unique<QSaveFile>(destination);
    if (!m_file->open(QIODevice::WriteOnly))
        return fail(tr("Cannot write '%1': %2").arg(destination, m_file->errorString()));
    QNetworkRequest request(url);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::NoLessSafeRedirectPolicy);
    m_reply = m_net->get(request);
    connect(m_reply, &QNetworkReply::readyRead, this, &WeightsDownloader::onReadyRead);
    connect(m_reply, &QNetworkReply::downloadProgress, this, &WeightsDownloader::progress);
    connect(m_reply, &QNetworkReply::finished, this, &WeightsDownloader::onFinished);
}

void WeightsDownloader::cancel() {
    if (!m_reply) return;
    m_cancelled = true;
    m_reply->abort();  // finished() follows
}

void WeightsDownloader::onReadyRead() {
    if (m_reply && !consume(m_reply)) m_reply->abort();
}

bool WeightsDownloader::consume(QNetworkReply* reply) {
    const QByteArray chunk = reply->readAll();
    m_hash.addData(chunk);
    return m_file->write(chunk) == chunk.size();
}

void WeightsDownloader::onFinished() {
    QNetworkReply* reply = m_reply;
    m_reply = nullptr;
    reply->deleteLater();
    if (m_cancelled) return fail(tr("Download cancelled"));
    if (reply->error() != QNetworkReply::NoError)
        return fail(tr("Cannot download %1: %2").arg(m_url.toString(), reply->errorString()));
    if (!consume(reply) || m_file->error() != QFileDevice::NoError)  // what is left, then check
        return fail(tr("Cannot write '%1': %2").arg(m_destination, m_file->errorString()));
    const QString digest = QString::fromLatin1(m_hash.result().toHex());
    if (!m_prefix.isEmpty() && !digest.startsWith(m_prefix))
        return fail(tr("The file from %1 is damaged or not the published one: its SHA-256 starts "
                       "with %2, its name promises %3. Nothing was saved.")
                        .arg(m_url.toString(), digest.left(m_prefix.size()), m_prefix));
    if (!m_file->commit())
        return fail(tr("Cannot write '%1': %2").arg(m_destination, m_file->errorString()));
    m_file.reset();
    Q_EMIT finished(m_destination, QString());
}

void WeightsDownloader::fail(const QString& error) {
    if (m_file) {
        m_file->cancelWriting();
        m_file.reset();
    }
    Q_EMIT finished(m_destination, error);
}

}  // namespace camx::ui

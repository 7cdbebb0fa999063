#include "dashboard/eval_dashboard.h"

#include <utility>

#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QTableView>
#include <QVBoxLayout>
#include <QtConcurrent>
#include <map>

#include "charts/eval_charts.h"
#include "explain/model_session.h"

namespace camx::ui {

namespace {
constexpr int kSortRole = Qt::UserRole + 1;
constexpr int kLabelRole = Qt::UserRole + 2;

QStandardItem* numberItem(double v, int decimals = 3) {
    auto* item = new QStandardItem(QString::number(v, 'f', decimals));
    item->setData(v, kSortRole);
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    item->setEditable(false);
    return item;
}
}  // namespace

EvalDashboard::EvalDashboard(QWidget* parent) : QWidget(parent) {
    setWindowTitle(tr("Evaluation Dashboard"));
    m_layers = new QComboBox;
    m_layers->setObjectName(QStringLiteral("evalLayersCombo"));
    m_layers->addItem(tr("Last block"), 0);
    m_layers->addItem(tr("Every block (per-layer chart)"), 1);
    m_limit = new QSpinBox;
    m_limit->setObjectName(QStringLiteral("evalLimitSpin"));
    m_limit->setRange(0, 1000000);
    m_limit->setSpecialValueText(tr("whole split"));
    m_limit->setSuffix(tr(" images"));
    m_run = new QPushButton(tr("&Evaluate"));
    m_run->setObjectName(QStringLiteral("evalRunButton"));
    m_stop = new QPushButton(tr("&Cancel"));
    m_stop->setEnabled(false);
    m_progress = new QProgressBar;
    m_progress->setTextVisible(true);
    m_status = new QLabel;
    m_status->setWordWrap(true);
    m_view = new QComboBox;
    m_view->setObjectName(QStringLiteral("evalViewLayerCombo"));
    m_summary = new QLabel;
    m_summary->setTextFormat(Qt::RichText);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Layers:")));
    top->addWidget(m_layers);
    top->addWidget(new QLabel(tr("Images:")));
    top->addWidget(m_limit);
    top->addWidget(m_run);
    top->addWidget(m_stop);
    top->addWidget(m_progress, 1);
    auto* viewRow = new QHBoxLayout;
    viewRow->addWidget(new QLabel(tr("Charts show layer:")));
    viewRow->addWidget(m_view);
    viewRow->addStretch(1);

    auto* grid = new QGridLayout;
    for (int i = 0; i < ChartCount; ++i) {
        auto* v = new QChartView;
        v->setRenderHint(QPainter::Antialiasing, true);
        v->setMinimumSize(360, 240);
        v->setContextMenuPolicy(Qt::CustomContextMenu);
        v->setToolTip(tr("Right-click to save the chart as PNG or SVG"));
        connect(v, &QWidget::customContextMenuRequested, this, [this, i](const QPoint&) {
            QMenu menu;
            menu.addAction(tr("Save Chart As…"), this, [this, i] { saveChartAs(i); });
            menu.exec(QCursor::pos());
        });
        m_charts[i] = v;
        grid->addWidget(v, i / 2, i % 2);
    }
    m_breeds = new QStandardItemModel(this);
    auto* proxy = new QSortFilterProxyModel(this);
    proxy->setSourceModel(m_breeds);
    proxy->setSortRole(kSortRole);
    m_table = new QTableView;
    m_table->setObjectName(QStringLiteral("breedTable"));
    m_table->setModel(proxy);
    m_table->setSortingEnabled(true);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->hide();
    m_table->setToolTip(tr("Click a breed to see its images in the explorer"));
    connect(m_table, &QTableView::clicked, this, [this](const QModelIndex& index) {
        const int label = index.sibling(index.row(), 0).data(kLabelRole).toInt();
        Q_EMIT showBreed(label);
    });

    auto* left = new QVBoxLayout;
    left->addLayout(viewRow);
    left->addLayout(grid, 1);
    auto* right = new QVBoxLayout;
    right->addWidget(m_summary);
    right->addWidget(m_table, 1);
    auto* body = new QHBoxLayout;
    body->addLayout(left, 3);
    body->addLayout(right, 2);
    auto* root = new QVBoxLayout(this);
    root->addLayout(top);
    root->addWidget(m_status);
    root->addLayout(body, 1);

    connect(m_run, &QPushButton::clicked, this,
            [this] { startEvaluation(static_cast<std::size_t>(m_limit->value())); });
    connect(m_stop, &QPushButton::clicked, this, &EvalDashboard::cancel);
    connect(m_view, &QComboBox::currentIndexChanged, this, [this] { rebuild(); });
    connect(&m_job, &QFutureWatcher<void>::finished, this, &EvalDashboard::onFinished);
    connect(&m_load, &QFutureWatcher<std::shared_ptr<LoadedEvaluation>>::finished, this,
            &EvalDashboard::onLoaded);
    setContext(nullptr, nullptr, SplitKind::Test);
}

EvalDashboard::~EvalDashboard() {
    m_cancel.cancel();
    m_job.waitForFinished();
}

std::filesystem::path EvalDashboard::resultsDir() const {
    return m_model ? evaluationDirFor(m_model->info().source, m_split) : std::filesystem::path();
}

QString EvalDashboard::message() const {
    return m_status->text();
}

bool EvalDashboard::isRunning() const {
    return m_job.isRunning();
}

void EvalDashboard::setContext(std::shared_ptr<ModelSession> model, const Dataset* dataset,
                               SplitKind split) {
    // A running evaluation belongs to the old context: cancel it and move on. The GUI thread never
    // waits for it; onFinished() sees it is stale and only says what became of it.
    ++m_context;
    if (isRunning()) m_cancel.cancel();
    m_model = std::move(model);
    m_dataset = dataset;
    m_split = split;
    m_results.reset();
    ++m_loadGeneration;  // a load still running is for the old context
    m_tapNames.clear();
    if (m_model) {
        for (const auto& t : m_model->info().taps) m_tapNames.push_back(t.name);
        m_lastTap = m_model->info().lastBlockTap;
    }
    const bool ready = m_model && m_dataset;
    m_run->setEnabled(ready && !isRunning());
    m_status->setText(ready ? tr("No saved evaluation of this model on this split yet: press "
                                 "Evaluate.")
                            : tr("Open a dataset and a model to evaluate."));
    if (ready) tryReload();
    rebuild();
}

void EvalDashboard::tryReload() {
    const auto dir = resultsDir();
    if (!std::filesystem::exists(dir / kRecordsFile)) return;
    // A whole split's records are tens of megabytes of JSON: read them off the GUI thread. The
    // generation number drops a load that finishes after the context changed again.
    const int generation = ++m_loadGeneration;
    m_status->setText(
        tr("Reading the saved evaluation in %1…").arg(QString::fromStdString(dir.string())));
    m_load.setFuture(QtConcurrent::run([dir, tapNames = m_tapNames, generation] {
        auto loaded = std::make_shared<LoadedEvaluation>();
        loaded->generation = generation;
        loaded->dir = dir;
        try {
            loaded->evaluation = loadEvaluation(dir, tapNames);
        } catch (const std::exception& e) {
            loaded->error = QString::fromStdString(e.what());
        }
        return loaded;
    }));
}

void EvalDashboard::onLoaded() {
    const auto loaded = m_load.result();
    if (!loaded || loaded->generation != m_loadGeneration) return;  // the context moved on
    if (!loaded->evaluation) {
        m_status->setText(tr("The saved evaluation could not be read (%1); evaluate again to "
                             "replace it.")
                              .arg(loaded->error));
        return;
    }
    m_results = std::move(loaded->evaluation);
    m_status->setText(tr("Loaded the saved evaluation from %1 (%2 images).")
                          .arg(QString::fromStdString(loaded->dir.string()))
                          .arg(m_results->records.size()));
    rebuild();
    Q_EMIT resultsChanged();
}

void EvalDashboard::startEvaluation(std::size_t limit) {
    if (!m_model || !m_dataset || isRunning()) return;
    const SplitData& split = m_split == SplitKind::Test ? m_dataset->test : m_dataset->train;
    EvalOptions o;
    o.taps = m_layers->currentData().toInt() == 1 ? m_model->info().blockTaps()
                                                  : std::vector<int>{m_lastTap};
    o.sweep = EvalOptions::defaultSweep(0.05f);
    o.limit = limit;
    m_runOptions = o;
    m_cancel.reset();
    auto run = std::make_shared<Run>();
    run->context = m_context;
    run->dir = resultsDir();
    run->modelName = QString::fromStdString(m_model->info().source.filename().string());
    m_runState = run;
    m_run->setEnabled(false);
    m_stop->setEnabled(true);
    m_progress->setRange(
        0, static_cast<int>(limit ? std::min(limit, split.samples.size()) : split.samples.size()));
    m_progress->setValue(0);
    m_status->setText(
        tr("Evaluating %1 in the background…")
            .arg(m_split == SplitKind::Test ? tr("the test split") : tr("the training split")));
    auto model = m_model;
    const auto dir = resultsDir();
    JobContext job;
    job.cancel = &m_cancel;
    job.progress = [this, run](const Progress& p) {
        QMetaObject::invokeMethod(
            this,
            [this, run, d = static_cast<int>(p.done), t = static_cast<int>(p.total)] {
                // A stale run's progress would move the new context's bar.
                if (run == m_runState && run->context == m_context) onProgress(d, t);
            },
            Qt::QueuedConnection);
    };
    m_job.setFuture(QtConcurrent::run([model, split = split, o, dir, job, run] {
        try {
            run->result = evaluateSplit(*model, split, o, dir, job);
        } catch (const Cancelled&) {
            // The progress is kept in eval_partial.jsonl; the next run resumes from it.
        } catch (const std::exception& e) {
            run->error = QString::fromStdString(e.what());
        }
    }));
}

void EvalDashboard::cancel() {
    if (!isRunning()) return;
    m_cancel.cancel();
    m_status->setText(tr("Cancelling… finished images are kept and the next run resumes."));
}

void EvalDashboard::onProgress(int done, int total) {
    if (!isRunning()) return;
    if (total > 0) m_progress->setMaximum(total);
    m_progress->setValue(done);
}

void EvalDashboard::onFinished() {
    m_stop->setEnabled(false);
    const std::shared_ptr<Run> run = std::exchange(m_runState, nullptr);
    m_run->setEnabled(m_model && m_dataset);
    if (!run) return;
    const QString where = QString::fromStdString(run->dir.string());
    if (run->context != m_context) {
        // Started for another model, dataset or split: nothing of it is shown or stored here.
        m_status->setText(m_status->text() + QLatin1Char(' ') +
                          tr("(The evaluation of %1 was stopped by the switch; its finished "
                             "images are kept in %2, and evaluating it again resumes.)")
                              .arg(run->modelName, where));
        Q_EMIT finished(true);
        return;
    }
    if (!run->error.isEmpty()) {
        m_status->setText(tr("The evaluation failed: %1").arg(run->error));
        Q_EMIT errorOccurred(run->error);
        Q_EMIT finished(true);
        return;
    }
    const bool cancelled = !run->result;
    if (cancelled) {
        m_status->setText(
            tr("Cancelled. Finished images are kept in %1; Evaluate resumes.").arg(where));
    } else {
        m_progress->setValue(m_progress->maximum());
        // What was just written, without reading it back.
        SavedEvaluation done;
        done.options = m_runOptions;
        done.model = m_model->info().source.string();
        done.records = std::move(run->result->records);
        done.summary = std::move(run->result->summary);
        ++m_loadGeneration;  // a reload still running would be older than this
        m_results = std::move(done);
        QString text =
            tr("Evaluated %1 images; saved in %2.").arg(m_results->records.size()).arg(where);
        if (run->result->resumed)
            text +=
                tr(" %1 of them were resumed from an interrupted run.").arg(run->result->resumed);
        if (!run->result->skipped.empty())
            text +=
                tr(" %n image(s) could not be decoded and are not included (listed in "
                   "summary.json).",
                   nullptr, static_cast<int>(run->result->skipped.size()));
        m_status->setText(text);
    }
    rebuild();
    if (!cancelled) Q_EMIT resultsChanged();
    Q_EMIT finished(cancelled);
}

std::vector<int> EvalDashboard::rowsInBin(int methodIndex, int bin) const {
    std::vector<int> rows;
    if (!m_results) return rows;
    const int tap = m_view->currentData().isValid() ? m_view->currentData().toInt() : m_lastTap;
    const auto shown = summariesAt(m_results->summary, tap, m_lastTap);
    if (methodIndex < 0 || methodIndex >= static_cast<int>(shown.size())) return rows;
    const MethodSummary* m = shown[static_cast<std::size_t>(methodIndex)];
    for (const auto& r : m_results->records)
        if (const MapScore* s = r.find(m->method, m->tap))
            if (iouBin(s->iou) == bin) rows.push_back(static_cast<int>(r.index));
    return rows;
}

void EvalDashboard::rebuild() {
    // The layer list follows the results.
    {
        const QSignalBlocker block(m_view);
        const QVariant keep = m_view->currentData();
        m_view->clear();
        if (m_results) {
            std::vector<int> taps;
            for (const auto& m : m_results->summary.methods)
                if (m.method != Method::Cam &&
                    std::find(taps.begin(), taps.end(), m.tap) == taps.end())
                    taps.push_back(m.tap);
            std::sort(taps.begin(), taps.end());
            for (int t : taps)
                m_view->addItem(QString::fromStdString(m_tapNames[static_cast<std::size_t>(t)]), t);
            const int i = m_view->findData(keep.isValid() ? keep : QVariant(m_lastTap));
            m_view->setCurrentIndex(i >= 0 ? i : m_view->count() - 1);
        }
        m_view->setEnabled(m_view->count() > 1);
    }
    for (auto* v : m_charts) {
        QChart* old = v->chart();
        v->setChart(new QChart);
        delete old;
    }
    m_breeds->clear();
    if (!m_results) {
        m_summary->clear();
        return;
    }
    const EvalSummary& s = m_results->summary;
    const int tap = m_view->currentData().isValid() ? m_view->currentData().toInt() : m_lastTap;
    const auto shown = summariesAt(s, tap, m_lastTap);
    const QList<QChart*> charts = {makeIouHistogramChart(m_results->records, shown),
                                   makeLayerChart(s, m_tapNames), makeSweepChart(s, shown),
                                   makeIouThresholdChart(shown)};
    for (int i = 0; i < ChartCount; ++i) {
        QChart* old = m_charts[i]->chart();
        m_charts[i]->setChart(charts[i]);
        delete old;
    }
    // Clicking a histogram bar shows its images.
    for (auto* series : charts[Histogram]->series())
        if (auto* bars = qobject_cast<QBarSeries*>(series))
            connect(bars, &QBarSeries::clicked, this, [this, bars](int bin, QBarSet* set) {
                const int methodIndex = static_cast<int>(bars->barSets().indexOf(set));
                Q_EMIT showImages(rowsInBin(methodIndex, bin),
                                  tr("%1 IoU %2–%3")
                                      .arg(set->label())
                                      .arg(bin / double(kIouBins), 0, 'f', 1)
                                      .arg((bin + 1) / double(kIouBins), 0, 'f', 1));
            });

    QString html = tr("<b>%1 images</b> · top-1 %2 · top-5 %3<table cellspacing=6>")
                       .arg(s.images)
                       .arg(s.top1, 0, 'f', 3)
                       .arg(s.top5, 0, 'f', 3);
    html +=
        tr("<tr><th align=left>method</th><th>layer</th><th>mean IoU</th><th>loc@0.5</th>"
           "<th>top-1 loc</th><th>MaxBoxAcc</th><th>V2</th></tr>");
    for (const MethodSummary* m : shown)
        html += QStringLiteral(
                    "<tr><td>%1</td><td>%2</td><td>%3</td><td>%4</td><td>%5</td>"
                    "<td>%6</td><td>%7</td></tr>")
                    .arg(QString::fromStdString(methodName(m->method)),
                         QString::fromStdString(m->tapName))
                    .arg(m->meanIou, 0, 'f', 3)
                    .arg(m->locAccuracy, 0, 'f', 3)
                    .arg(m->top1Loc, 0, 'f', 3)
                    .arg(m->maxBoxAcc, 0, 'f', 3)
                    .arg(m->maxBoxAccV2, 0, 'f', 3);
    m_summary->setText(html + QStringLiteral("</table>"));

    // Per-breed table: images, then mean IoU and localisation accuracy per method.
    QStringList headers{tr("Breed"), tr("Images")};
    for (const MethodSummary* m : shown) {
        const QString n = QString::fromStdString(methodName(m->method));
        headers << tr("%1 mean IoU").arg(n) << tr("%1 loc@0.5").arg(n);
    }
    m_breeds->setHorizontalHeaderLabels(headers);
    std::map<int, int> counts;
    for (const auto& r : m_results->records) ++counts[r.label];
    const auto& names = m_model->info().classNames;
    for (const auto& [label, n] : counts) {
        QList<QStandardItem*> row;
        auto* name =
            new QStandardItem(label >= 0 && label < static_cast<int>(names.size())
                                  ? QString::fromStdString(names[static_cast<std::size_t>(label)])
                                  : QString::number(label));
        name->setData(name->text(), kSortRole);
        name->setData(label, kLabelRole);
        name->setEditable(false);
        row << name << numberItem(n, 0);
        for (const MethodSummary* m : shown) {
            const auto it = m->perBreed.find(label);
            row << numberItem(it == m->perBreed.end() ? 0.0 : it->second.first)
                << numberItem(it == m->perBreed.end() ? 0.0 : it->second.second);
        }
        m_breeds->appendRow(row);
    }
    m_table->resizeColumnsToContents();
}

void EvalDashboard::saveChartAs(int id) {
    QSettings settings;
    const QString f = QFileDialog::getSaveFileName(
        this, tr("Save chart"), settings.value("paths/lastChart", "chart.png").toString(),
        tr("PNG image (*.png);;SVG drawing (*.svg)"));
    if (f.isEmpty()) return;
    QString error;
    if (!saveChart(m_charts[id], f, 0, &error))
        QMessageBox::warning(this, tr("Cannot save the chart"), error);
    else
        settings.setValue("paths/lastChart", f);
}

}  // namespace camx::ui

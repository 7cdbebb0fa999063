#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "data/dataset.h"
#include "data/demo_generator.h"
#include "data/formats/dataset_writer.h"
#include "terminal_progress.h"

namespace camx::cli {
namespace fs = std::filesystem;

namespace {

void printReport(const char* name, const SplitData& split, std::size_t maxIssues) {
    const LoadReport& r = split.report;
    std::printf("%-5s  %6zu loaded / %6zu listed  (%zu skipped, %zu repaired)\n", name, r.loaded,
                r.listed, r.skipped(), r.repaired());
    std::size_t shown = 0;
    for (const auto& issue : r.issues) {
        if (shown++ == maxIssues) {
            std::printf("         ... %zu more\n", r.issues.size() - maxIssues);
            break;
        }
        std::printf("         %s %s: %s\n",
                    issue.kind == LoadIssue::Kind::Skipped ? "skipped " : "repaired",
                    issue.file.c_str(), issue.message.c_str());
    }
}

}  // namespace

void addDataCommands(CLI::App& app) {
    {
        auto* cmd = app.add_subcommand(
            "check-data",
            "Read a dataset (Stanford Dogs or its three archives, CUB-200-2011, or images with "
            "wsolevaluation metadata) and print the counts and the load report. Exits non-zero "
            "only when nothing can be loaded.");
        static DataOptions data;
        static bool verify = false;
        static std::size_t maxIssues = 20;
        static std::string cache;
        static bool quiet = false;
        addDataOptions(cmd, data, true);
        cmd->add_flag("--quiet", quiet, "no progress bar");
        cmd->add_flag("--verify", verify, "decode every image instead of checking headers only");
        cmd->add_option("--max-issues", maxIssues, "issues listed per split")
            ->check(CLI::Range(0, 1000000))
            ->capture_default_str();
        cmd->add_option("--cache", cache, "where archives are unpacked (default: user cache)");
        cmd->callback([] {
            TerminalProgress bar(quiet);
            OpenOptions opt;
            opt.verifyImages = verify;
            opt.cacheDir = cache;
            opt.job = {bar.callback(), &interruptToken()};
            Dataset ds = openData(data, opt);
            bar.finish();
            std::printf("dataset  %s\n", ds.root.c_str());
            std::printf("format   %s\n", datasetFormatName(ds.format));
            std::printf("classes  %zu\n", ds.numClasses());
            for (const std::string& note : ds.notes) std::printf("note     %s\n", note.c_str());
            printReport("train", ds.train, maxIssues);
            if (ds.val.report.listed > 0 || !ds.val.report.issues.empty())
                printReport("val", ds.val, maxIssues);
            printReport("test", ds.test, maxIssues);
        });
    }
    {
        auto* cmd = app.add_subcommand(
            "make-demo", "Generate the demo dataset (procedural dogs) in the Stanford Dogs layout");
        static std::string out;
        static DemoOptions opt;
        static bool quiet = false;
        cmd->add_option("--out", out, "output folder")->required();
        cmd->add_flag("--quiet", quiet, "no progress bar");
        cmd->add_option("--seed", opt.seed, "random seed; the same seed gives the same files")
            ->check(CLI::NonNegativeNumber)
            ->capture_default_str();
        cmd->add_option("--breeds", opt.numBreeds, "number of breeds (2-10)")
            ->capture_default_str()
            ->check(CLI::Range(2, 10));
        cmd->add_option("--train-per-breed", opt.trainPerBreed)
            ->capture_default_str()
            ->check(CLI::Range(1, 100000));
        cmd->add_option("--test-per-breed", opt.testPerBreed)
            ->capture_default_str()
            ->check(CLI::Range(1, 100000));
        cmd->add_flag("--overwrite", opt.overwrite, "replace a non-empty output folder");
        static std::string format = "stanford-dogs";
        cmd->add_option("--format", format,
                        "layout: stanford-dogs, cub (CUB-200-2011's files), wsol (images/ and "
                        "wsolevaluation's metadata/), imagefolder (train/ and test/ of class "
                        "folders, no boxes), voc (PASCAL VOC's Annotations/, JPEGImages/, "
                        "ImageSets/Main/) or imagenet (the test images as ImageNet validation in "
                        "Kaggle's layout)")
            ->check(
                CLI::IsMember({"stanford-dogs", "cub", "wsol", "imagefolder", "voc", "imagenet"}))
            ->capture_default_str();
        cmd->callback([] {
            TerminalProgress bar(quiet);
            opt.job = {bar.callback(), &interruptToken()};
            const DatasetFormat f = *parseDatasetFormat(format);
            if (f == DatasetFormat::StanfordDogs) {
                const DemoSummary s = generateDemoDataset(out, opt);
                bar.finish();
                std::printf("wrote %zu train and %zu test images (%zu boxes) to %s\n",
                            s.trainImages, s.testImages, s.boxes, fs::absolute(out).c_str());
                return;
            }
            // The demo in the Stanford Dogs layout first, beside the output, then rewritten.
            const fs::path dest = fs::absolute(out);
            const fs::path source =
                dest.parent_path() / ("." + dest.filename().string() + ".stanford-dogs");
            DemoOptions o = opt;
            o.overwrite = true;
            const DemoSummary s = generateDemoDataset(source, o);
            std::error_code ec;
            if (fs::exists(dest, ec) && !fs::is_empty(dest, ec)) {
                if (!opt.overwrite) {
                    fs::remove_all(source, ec);
                    throw std::runtime_error("'" + out +
                                             "' is not empty; give --overwrite to replace it");
                }
                fs::remove_all(dest, ec);
            }
            try {
                writeDatasetAs(openStanfordDogs(source), dest, f);
            } catch (...) {
                fs::remove_all(source, ec);
                throw;
            }
            fs::remove_all(source, ec);
            bar.finish();
            if (f == DatasetFormat::ImageFolder)  // no boxes
                std::printf(
                    "wrote %zu train and %zu test images (no boxes) in the %s layout to "
                    "%s\n",
                    s.trainImages, s.testImages, format.c_str(), dest.c_str());
            else if (f == DatasetFormat::ImageNet)  // validation only: one split
                std::printf("wrote the %zu test images in the %s layout to %s\n", s.testImages,
                            format.c_str(), dest.c_str());
            else
                std::printf(
                    "wrote %zu train and %zu test images (%zu boxes) in the %s layout to %s\n",
                    s.trainImages, s.testImages, s.boxes, format.c_str(), dest.c_str());
        });
    }
}

}  // namespace camx::cli

import SECNNData
import XCTest

final class DatasetSourceTests: XCTestCase {
    func testParsesAcceptedForms() throws {
        XCTAssertEqual(try DatasetSource(argument: "digits"), .digits)
        XCTAssertEqual(try DatasetSource(argument: "cifar10:/data/cifar"), .cifar10(directory: "/data/cifar"))
        XCTAssertEqual(try DatasetSource(argument: "fashion-mnist"), .fashionMNIST(directory: "/usr/share/datasets/fashion-mnist"))
        XCTAssertEqual(try DatasetSource(argument: "fashion-mnist:rel/dir:with:colons"), .fashionMNIST(directory: "rel/dir:with:colons"))
    }

    func testDescriptionRoundTrips() throws {
        for source in [DatasetSource.digits, .cifar10(directory: "/a/b"), .fashionMNIST(directory: "x"),
                       .cifar100(directory: "/c", coarse: false), .cifar100(directory: "/c", coarse: true),
                       .folder(ImageFolder(directory: "/p:q")), .folder(ImageFolder(directory: "/p", imageSize: ImageSize("24x32")))] {
            XCTAssertEqual(try DatasetSource(argument: source.description), source)
        }
        XCTAssertEqual(DatasetSource.cifar10(directory: "/a").description, "cifar10:/a")
    }

    func testRejectsUnknownAndIncompleteForms() {
        let accepted = "accepted forms: digits, cifar10:DIR, cifar100:DIR, cifar100-coarse:DIR, fashion-mnist, "
            + "fashion-mnist:DIR, folder:DIR"
        for argument in ["mnist", "", "Digits", "cifar10", "cifar10:", "fashion-mnist:", "digits:/x", "cifar100",
                         "cifar100-coarse:", "folder", "folder:"] {
            XCTAssertThrowsError(try DatasetSource(argument: argument), "argument \"\(argument)\"") { error in
                let error = error as? DatasetError
                XCTAssertEqual(error?.file, "--data")
                XCTAssertNil(error?.location)
                XCTAssertTrue(error?.message.contains(accepted) ?? false, "\(String(describing: error))")
                XCTAssertTrue(error?.description.hasPrefix("--data: ") ?? false)
            }
        }
        XCTAssertThrowsError(try DatasetSource(argument: "mnist")) { error in
            XCTAssertEqual((error as? DatasetError)?.message, "unknown dataset \"mnist\"; " + accepted)
        }
    }

    func testErrorDescriptionFormat() {
        XCTAssertEqual(DatasetError(file: "/x/a.bin", location: "offset 3", message: "bad").description, "/x/a.bin: offset 3: bad")
        XCTAssertEqual(DatasetError(file: "/x/a.bin", location: nil, message: "file not found").description, "/x/a.bin: file not found")
    }
}

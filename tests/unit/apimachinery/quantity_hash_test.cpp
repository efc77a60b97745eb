#include <catch2/catch.hpp>

#include "apimachinery/hash.hpp"
#include "apimachinery/quantity.hpp"

using namespace cpo::apimachinery;

TEST_CASE("Quantities read as the API writes them", "[quantity]") {
  CHECK(quantity_value("1") == 1.0);
  CHECK(quantity_value("500m") == Approx(0.5));
  CHECK(quantity_value("1Gi") == 1073741824.0);
  CHECK(quantity_value("2k") == 2000.0);
  CHECK(quantity_value("0.5") == 0.5);
  CHECK(quantity_value("-1") == -1.0);
  CHECK(quantity_value("+3M") == 3e6);
  CHECK_FALSE(quantity_value(""));
  CHECK_FALSE(quantity_value("Gi"));
  CHECK_FALSE(quantity_value("1Xi"));
  CHECK_FALSE(quantity_value("1.2.3"));
  CHECK_FALSE(quantity_value("1 Gi"));
}

TEST_CASE("sha256 as sha256sum prints it", "[hash]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

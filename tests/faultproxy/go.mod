module clusterpolicy-operator.test/faultproxy

go 1.26

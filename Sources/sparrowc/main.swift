print("sparrowc")

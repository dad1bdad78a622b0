// AtomicBundle's compiled ABI as a Solidity interface, written by `cargo run -p zkpolicy-contracts --example render_contracts`;
// the Rust bindings are generated from it. Do not edit.
interface AtomicBundle {
    struct Step {
        address target;
        bytes data;
        address fillFrom;
        bytes fillQuery;
        uint256 fillAt;
    }

    error FillFailed(uint256 index);
    error NotOwner();
    error Simulated(int256[] moved);
    error StepFailed(uint256 index, bytes reason);

    constructor(address owner_);

    function owner() external view returns (address);
    function run(Step[] memory steps, address[] memory assets) external returns (int256[] memory moved);
    function simulate(Step[] memory steps, address[] memory assets) external;
}

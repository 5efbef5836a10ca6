import CherryPick
import SwitchyardRuntime

FunctionMain.run(CherryPick())
